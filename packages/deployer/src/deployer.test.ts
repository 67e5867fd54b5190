import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRedactor, createSecretBox, silentLogger } from '@simpledeploy/core';
import { createTestDb, insertDeployment, insertHost, listVersions } from '@simpledeploy/db';
import {
  composeSubcommand,
  createFakeClock,
  createFakeRunner,
  flush,
  gate,
  sub,
} from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createServices } from './services';
import { createSourceResolver, inlineState, type SourceResolver } from './sources';

const API_KEY = 'server-api-key-123';
const compose = (tag: string) => `services:\n  web:\n    image: 127.0.0.1:5000/web:${tag}\n`;

function setup(opts: { maxConcurrent?: number; sources?: SourceResolver } = {}) {
  const { db } = createTestDb();
  const runner = createFakeRunner();
  const clock = createFakeClock();
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-unit-'));
  const secrets = createSecretBox('unit-test-key');
  const { deployer, stacks, lifecycle } = createServices({
    db,
    runner,
    clock,
    logger: silentLogger,
    secrets,
    redact: createRedactor([API_KEY]),
    sources: opts.sources ?? createSourceResolver(),
    config: {
      dataDir,
      projectPrefix: 'simpledeploy',
      maxConcurrent: opts.maxConcurrent ?? 3,
      childEnv: { PATH: '/usr/bin:/bin', HOME: '/root' },
      reapplyRetryDelayMs: 0,
    },
  });
  return { db, runner, clock, dataDir, deployer, stacks, lifecycle };
}

/** Waits (bounded) until a condition holds: deploy steps do real file I/O between commands. */
async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Calls to `up` in order, by project. */
/** The argv after the subcommand word, whatever -f and --env-file came before it. */
const tailArgs = (args: string[]) => args.slice(args.indexOf(composeSubcommand(args)));
/** Where compose ran: the deploy dir, the pre-deploy check dir, or a scratch dir. */
const placeOf = (cwd: string | undefined) =>
  cwd?.endsWith('/deploy') ? 'deploy' : cwd?.endsWith('/check') ? 'check' : 'scratch';

/** `docker compose ... ps`, not `docker ps`. */
const composePs = (args: string[]) => args[0] === 'compose' && composeSubcommand(args) === 'ps';

/** `docker ps -a` of a project's containers, as a deploy asks it once before `up`. */
const listProject = (project: string) => [
  'ps',
  '-a',
  '--filter',
  `label=com.docker.compose.project=${project}`,
  '--format',
  '{{.ID}}\t{{.Names}}\t{{.State}}\t{{.Status}}\t{{.Label "com.docker.compose.service"}}\t{{.Label "com.docker.compose.oneoff"}}',
];

const upProjects = (runner: ReturnType<typeof createFakeRunner>) =>
  runner.calls.filter((c) => composeSubcommand(c.args) === 'up').map((c) => c.args[2]);

describe('deploy flow', () => {
  it('runs config, pull and up with the exact argv, project name and every -f', async () => {
    const t = setup();
    const s = await t.stacks.create({
      name: 'web',
      compose: compose('v1'),
      compose_variables: { TAG: 'v1' },
    });
    // Creating an inline stack asked compose for its model, in a scratch dir.
    expect(t.runner.calls.map((c) => [placeOf(c.options.cwd), ...tailArgs(c.args)])).toEqual([
      ['scratch', 'config', '--format', 'json'],
    ]);
    t.runner.calls.length = 0;
    const { deployment } = t.deployer.deploy('web', { trigger: 'manual' });
    const done = await t.deployer.waitFor(deployment.id);
    expect(done.status).toBe('succeeded');
    const file = join(t.dataDir, 'stacks', s.id, 'deploy', 'compose.yaml');
    const vars = expect.stringMatching(/\/run\/session-[^/]+\/variables\.env$/);
    const base = ['compose', '-p', 'simpledeploy-web', '-f', file, '--env-file', vars];
    // The policy judges a fresh copy, then the deploy dir right before anything runs there.
    expect(t.runner.calls[0]?.options.cwd).toBe(join(t.dataDir, 'stacks', s.id, 'check'));
    expect(t.runner.calls.slice(1).map((c) => [c.file, ...c.args])).toEqual([
      // The project's containers, once: the running ones' read-write mounts count as
      // writable, and leftovers of a killed compose's recreate are repaired before up.
      ['docker', ...listProject('simpledeploy-web')],
      // Every profile: a service of any profile can be started by name.
      ['docker', ...base, '--profile', '*', 'config', '--format', 'json'],
      ['docker', ...base, 'pull', '--ignore-buildable'],
      ['docker', ...base, 'up', '-d', '--remove-orphans', '--wait'],
    ]);
  });

  it('gives compose a minimal environment: its own DOCKER_CONFIG and the stack variables, never the API key', async () => {
    const t = setup();
    await t.stacks.create({
      name: 'env',
      compose: compose('v1'),
      compose_variables: { TAG: 'v1', N: 3 },
    });
    let variables = '';
    t.runner.on(sub('pull'), (call) => {
      const i = call.args.indexOf('--env-file');
      variables = readFileSync(call.args[i + 1] ?? '', 'utf8');
      return {};
    });
    const { deployment } = t.deployer.deploy('env', { trigger: 'manual' });
    await t.deployer.waitFor(deployment.id);
    for (const call of t.runner.calls) {
      const env = call.options.env ?? {};
      // Variables are interpolation input only, never the CLI's environment.
      expect(Object.keys(env).sort()).toEqual(['DOCKER_CONFIG', 'HOME', 'PATH']);
      expect(JSON.stringify(env)).not.toContain(API_KEY);
    }
    expect(variables).toBe('TAG="v1"\nN="3"\n');
  });

  it('converges a no-op redeploy without config check, pull or a health wait when all is healthy', async () => {
    const t = setup();
    await t.stacks.create({ name: 'noop', compose: compose('v1') });
    await t.deployer.waitFor(t.deployer.deploy('noop', { trigger: 'manual' }).deployment.id);
    t.runner.calls.length = 0;
    t.runner.on(composePs, {
      stdout: '{"Service":"web","Name":"w1","State":"running","Health":"healthy"}\n',
    });
    await t.deployer.waitFor(t.deployer.deploy('noop', { trigger: 'manual' }).deployment.id);
    // The deploy dir's files are as the gate last judged them: no `config`.
    expect(t.runner.calls.map((c) => tailArgs(c.args))).toEqual([
      listProject('simpledeploy-noop'),
      ['up', '-d', '--remove-orphans'],
      ['ps', '--all', '--format', 'json'],
    ]);
    t.runner.calls.length = 0;
    t.runner.on(composePs, {
      stdout: '{"Service":"web","Name":"w1","State":"running","Health":"starting"}\n',
    });
    await t.deployer.waitFor(t.deployer.deploy('noop', { trigger: 'manual' }).deployment.id);
    expect(t.runner.subcommands()).toEqual(['ps', 'up', 'ps', 'up']);
    expect(t.runner.calls.at(-1)?.args).toContain('--wait');
    t.runner.calls.length = 0;
    await t.deployer.waitFor(
      t.deployer.deploy('noop', { trigger: 'manual', force: true }).deployment.id,
    );
    // force judges a fresh copy again (the check dir); the deploy dir is unchanged.
    expect(t.runner.subcommands()).toEqual(['config', 'ps', 'pull', 'up']);
  });

  it('asks nothing after up when every container ran healthy before and up only saw them Running', async () => {
    const t = setup();
    await t.stacks.create({ name: 'quiet', compose: compose('v1') });
    await t.deployer.waitFor(t.deployer.deploy('quiet', { trigger: 'manual' }).deployment.id);
    t.runner.on((args) => args[0] === 'ps' && args[1] === '-a', {
      stdout:
        'abc123def456\tsimpledeploy-quiet-web-1\trunning\tUp 5 minutes (healthy)\tweb\tFalse\n',
    });
    t.runner.on(sub('up'), { stderr: ' Container simpledeploy-quiet-web-1  Running\n' });
    t.runner.on((args) => args[0] === 'inspect', {
      stdout: `abc123def456${'0'.repeat(52)}\t[]\n`,
    });
    t.runner.calls.length = 0;
    const noop = t.deployer.deploy('quiet', { trigger: 'manual' }).deployment.id;
    expect((await t.deployer.waitFor(noop)).status).toBe('succeeded');
    // The running container is new to the gate: its mounts are inspected (none is
    // read-write, so the verdict holds), and up said all was Running: nothing after it.
    expect(t.runner.subcommands()).toEqual(['ps', 'inspect', 'up']);
    t.runner.calls.length = 0;
    await t.deployer.waitFor(t.deployer.deploy('quiet', { trigger: 'manual' }).deployment.id);
    // A container's mounts never change: not inspected again.
    expect(t.runner.subcommands()).toEqual(['ps', 'up']);

    // Anything else from up (a recreate) and the state is asked for again.
    t.runner.on(sub('up'), { stderr: ' Container simpledeploy-quiet-web-1  Recreate\n' });
    t.runner.calls.length = 0;
    await t.deployer.waitFor(t.deployer.deploy('quiet', { trigger: 'manual' }).deployment.id);
    expect(t.runner.subcommands()).toEqual(['ps', 'up', 'ps']);
  });

  it('judges the deploy dir again when an env file compose reads changed there', async () => {
    const t = setup();
    const s = await t.stacks.create({
      name: 'envf',
      compose:
        'services:\n  web:\n    image: w\n    env_file:\n      - path: ./extra.env\n        required: false\n',
    });
    await t.deployer.waitFor(t.deployer.deploy('envf', { trigger: 'manual' }).deployment.id);
    await t.deployer.waitFor(t.deployer.deploy('envf', { trigger: 'manual' }).deployment.id);
    expect(t.runner.subcommands().slice(-3)).toEqual(['ps', 'up', 'ps']);
    writeFileSync(join(t.dataDir, 'stacks', s.id, 'deploy', 'extra.env'), 'A=1\n');
    t.runner.calls.length = 0;
    await t.deployer.waitFor(t.deployer.deploy('envf', { trigger: 'manual' }).deployment.id);
    expect(t.runner.subcommands().slice(0, 2)).toEqual(['ps', 'config']);
  });

  it('judges the deploy dir again when a container planted a symlink where the stack binds', async () => {
    const t = setup();
    const s = await t.stacks.create({
      name: 'plant',
      compose: 'services:\n  web:\n    image: w\n    volumes:\n      - ./data:/data\n',
    });
    await t.deployer.waitFor(t.deployer.deploy('plant', { trigger: 'manual' }).deployment.id);
    await t.deployer.waitFor(t.deployer.deploy('plant', { trigger: 'manual' }).deployment.id);
    // The no-op redeploy: no config.
    expect(t.runner.subcommands().slice(-3)).toEqual(['ps', 'up', 'ps']);
    // What a container with ./data mounted read-write could do: swap its data dir for a
    // link to the host's root.
    const data = join(t.dataDir, 'stacks', s.id, 'deploy', 'data');
    rmSync(data, { recursive: true, force: true });
    symlinkSync('/', data);
    t.runner.calls.length = 0;
    const done = await t.deployer.waitFor(
      t.deployer.deploy('plant', { trigger: 'manual' }).deployment.id,
    );
    expect(t.runner.subcommands()[1]).toBe('config');
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/policy/);
    expect(t.runner.subcommands()).not.toContain('up');
  });

  it('limits pull and up to the service filter', async () => {
    const t = setup();
    await t.stacks.create({ name: 'f', compose: compose('v1'), service_filter: 'web, db' });
    const { deployment } = t.deployer.deploy('f', { trigger: 'manual' });
    await t.deployer.waitFor(deployment.id);
    const of = (word: string) => t.runner.calls.find((c) => composeSubcommand(c.args) === word);
    expect(of('pull')?.args.slice(-4)).toEqual(['pull', '--ignore-buildable', 'web', 'db']);
    expect(of('up')?.args.slice(-2)).toEqual(['web', 'db']);
  });

  it('fails fast on an invalid compose file without pulling or touching containers', async () => {
    const t = setup();
    await t.stacks.create({ name: 'bad', compose: compose('v1') });
    t.runner.calls.length = 0;
    t.runner.on(sub('config'), { exitCode: 15, stderr: 'services.web.ports must be a list' });
    const { deployment } = t.deployer.deploy('bad', { trigger: 'manual' });
    const done = await t.deployer.waitFor(deployment.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('services.web.ports must be a list');
    expect(t.runner.subcommands()).toEqual(['config']);
  });

  it('records identical content as one version and a changed tag as a new one', async () => {
    const t = setup();
    await t.stacks.create({ name: 'v', compose: compose('v1') });
    for (let i = 0; i < 2; i++) {
      await t.deployer.waitFor(t.deployer.deploy('v', { trigger: 'manual' }).deployment.id);
    }
    const stack = t.stacks.get('v');
    expect(listVersions(t.db, stack.id)).toHaveLength(1);
    await t.stacks.update('v', { compose: compose('v2') });
    await t.deployer.waitFor(t.deployer.deploy('v', { trigger: 'manual' }).deployment.id);
    const versions = t.deployer.listVersions('v');
    expect(versions).toHaveLength(2);
    expect(versions.filter((v) => v.current)).toHaveLength(1);
    expect(t.stacks.get('v').current_version_id).toBe(versions.find((v) => v.current)?.id);
  });

  it('records the commit it deployed even when an older commit had the same content', async () => {
    const commits = ['a'.repeat(40), 'b'.repeat(40)];
    let i = 0;
    const t = setup({
      sources: { resolve: async (stack) => ({ state: inlineState(stack), commit: commits[i++] }) },
    });
    await t.stacks.create({ name: 'rev', compose: compose('v1') });
    await t.deployer.waitFor(t.deployer.deploy('rev', { trigger: 'manual' }).deployment.id);
    const second = await t.deployer.waitFor(
      t.deployer.deploy('rev', { trigger: 'poll' }).deployment.id,
    );
    expect(second.git_commit).toBe(commits[1]);
    expect(t.stacks.get('rev').deployed_commit).toBe(commits[1]);
    expect(t.deployer.listVersions('rev')).toHaveLength(1);
  });

  it('redacts registry passwords from the deployment log', async () => {
    const t = setup();
    await t.stacks.create({
      name: 'red',
      compose: compose('v1'),
      docker_registry: '127.0.0.1:5000',
      docker_username: 'alice',
      docker_password: 'very-secret-pw',
    });
    t.runner.on(sub('pull'), {
      lines: [{ stream: 'stderr', text: 'login with very-secret-pw failed' }],
    });
    const { deployment } = t.deployer.deploy('red', { trigger: 'manual' });
    await t.deployer.waitFor(deployment.id);
    const log = JSON.stringify(t.deployer.getDeployment(deployment.id).log);
    expect(log).toContain('login with *** failed');
    expect(log).not.toContain('very-secret-pw');
  });
});

describe('queue', () => {
  it('runs at most 3 deployments at once across 5 stacks, first come first served', async () => {
    const t = setup();
    const g = gate();
    t.runner.on(sub('up'), { until: g.promise });
    const names = new Map<string, string>();
    for (let i = 1; i <= 5; i++)
      names.set((await t.stacks.create({ name: `s${i}`, compose: compose('v1') })).id, `s${i}`);
    const startOrder: string[] = [];
    const started = new Set<string>();
    t.deployer.onChange((e) => {
      // A running deployment is announced again once its version is resolved: count starts.
      if (e.type !== 'deployment' || e.deployment.status !== 'running') return;
      if (started.has(e.deployment.id)) return;
      started.add(e.deployment.id);
      startOrder.push(names.get(e.deployment.stack_id) ?? '');
    });
    const deps = [1, 2, 3, 4, 5].map(
      (i) => t.deployer.deploy(`s${i}`, { trigger: 'manual' }).deployment,
    );
    await until(() => t.runner.alive === 3);
    for (let i = 0; i < 20; i++) await flush();
    expect(t.runner.alive).toBe(3);
    expect(upProjects(t.runner).sort()).toEqual([
      'simpledeploy-s1',
      'simpledeploy-s2',
      'simpledeploy-s3',
    ]);
    const statuses = deps.map((d) => t.deployer.getDeployment(d.id).status);
    expect(statuses).toEqual(['running', 'running', 'running', 'queued', 'queued']);
    expect(t.stacks.get('s4').status).toBe('queued');
    expect(t.stacks.get('s1').status).toBe('deploying');
    g.open();
    const done = await Promise.all(deps.map((d) => t.deployer.waitFor(d.id)));
    expect(done.map((d) => d.status)).toEqual(Array(5).fill('succeeded'));
    // Started in the order they were queued (their `up` calls may then interleave).
    expect(startOrder).toEqual(['s1', 's2', 's3', 's4', 's5']);
    expect(t.runner.maxAlive).toBe(3);
  });

  it("holds a host's own cap under the global one, and runs each stack's commands against its host", async () => {
    const t = setup();
    const g = gate();
    t.runner.on(sub('up'), { until: g.promise });
    const at = '2026-01-01T00:00:00.000Z';
    insertHost(t.db, {
      id: 'host_other',
      name: 'other',
      dockerHost: 'unix:///run/other-engine.sock',
      maxConcurrentDeploys: 1,
      createdAt: at,
      updatedAt: at,
    });
    await t.stacks.create({ name: 'a', compose: compose('v1'), host: 'other' });
    await t.stacks.create({ name: 'b', compose: compose('v1'), host: 'other' });
    await t.stacks.create({ name: 'c', compose: compose('v1') });
    const deps = ['a', 'b', 'c'].map((n) => t.deployer.deploy(n, { trigger: 'manual' }).deployment);
    await until(() => t.runner.alive === 2);
    for (let i = 0; i < 20; i++) await flush();
    // One on the capped host, one on local; b waits for its host, not for a global slot.
    expect(t.runner.alive).toBe(2);
    expect(upProjects(t.runner).sort()).toEqual(['simpledeploy-a', 'simpledeploy-c']);
    expect(t.deployer.getDeployment(deps[1]?.id as string).status).toBe('queued');
    g.open();
    const done = await Promise.all(deps.map((d) => t.deployer.waitFor(d.id)));
    expect(done.map((d) => d.status)).toEqual(['succeeded', 'succeeded', 'succeeded']);
    const hostOf = (project: string) =>
      t.runner.calls.find((c) => composeSubcommand(c.args) === 'up' && c.args[2] === project)
        ?.options.env?.DOCKER_HOST;
    expect(hostOf('simpledeploy-a')).toBe('unix:///run/other-engine.sock');
    expect(hostOf('simpledeploy-b')).toBe('unix:///run/other-engine.sock');
    expect(hostOf('simpledeploy-c')).toBeUndefined();
  });

  it('never runs two deployments of one stack at once, and coalesces a third trigger into the queued one', async () => {
    const t = setup();
    const g = gate();
    t.runner.on(sub('up'), { until: g.promise });
    await t.stacks.create({ name: 'one', compose: compose('v1') });
    const first = t.deployer.deploy('one', { trigger: 'manual' });
    await until(() => t.runner.alive === 1);
    const second = t.deployer.deploy('one', { trigger: 'webhook' });
    const third = t.deployer.deploy('one', { trigger: 'webhook' });
    expect(second.coalesced).toBe(false);
    expect(third.coalesced).toBe(true);
    expect(third.deployment.id).toBe(second.deployment.id);
    for (let i = 0; i < 10; i++) await flush();
    expect(t.runner.alive).toBe(1);
    g.open();
    await t.deployer.waitFor(second.deployment.id);
    expect(t.runner.maxAlive).toBe(1);
    expect(t.deployer.listDeployments('one')).toHaveLength(2);
    expect(first.coalesced).toBe(false);
  });
});

describe('coalescing and queued commands', () => {
  it('does not fold a trigger with its own ref or force into the queued deployment', async () => {
    const t = setup();
    const g = gate();
    t.runner.on(sub('up'), { until: g.promise });
    await t.stacks.create({ name: 'cf', compose: compose('v1') });
    t.deployer.deploy('cf', { trigger: 'manual' });
    await until(() => t.runner.alive === 1);
    const queued = t.deployer.deploy('cf', { trigger: 'poll' });
    const forced = t.deployer.deploy('cf', { trigger: 'manual', force: true });
    expect(forced.coalesced).toBe(false);
    expect(forced.deployment.id).not.toBe(queued.deployment.id);
    // A plain trigger still joins a queued deployment rather than adding a third.
    expect(t.deployer.deploy('cf', { trigger: 'webhook' }).coalesced).toBe(true);
    g.open();
  });

  it('deployStackId joins a queued deployment by id, queues like deploy otherwise, and 404s a gone stack', async () => {
    const t = setup();
    const g = gate();
    t.runner.on(sub('up'), { until: g.promise });
    const { id } = await t.stacks.create({ name: 'bi', compose: compose('v1') });
    const running = t.deployer.deployStackId(id, { trigger: 'webhook' });
    expect(running.coalesced).toBe(false);
    await until(() => t.runner.alive === 1);
    const queued = t.deployer.deployStackId(id, { trigger: 'webhook' });
    expect(queued.coalesced).toBe(false);
    const joined = t.deployer.deployStackId(id, { trigger: 'webhook' });
    expect(joined).toMatchObject({ coalesced: true, deployment: { id: queued.deployment.id } });
    expect(t.deployer.deployStackId(id, { trigger: 'manual', ref: 'main' }).coalesced).toBe(false);
    expect(() => t.deployer.deployStackId('no-such-stack', { trigger: 'webhook' })).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
    g.open();
  });

  it('joins only a deployment still queued: not one canceled, started or finished, and the newest one queued', async () => {
    const t = setup();
    const g = gate();
    t.runner.on(sub('up'), { until: g.promise });
    const { id } = await t.stacks.create({ name: 'jq', compose: compose('v1') });
    const push = () => t.deployer.deployStackId(id, { trigger: 'webhook' });
    const first = push();
    await until(() => t.runner.alive === 1);
    const queued = push();
    expect(push()).toMatchObject({ coalesced: true, deployment: { id: queued.deployment.id } });
    t.deployer.cancel(queued.deployment.id);
    const next = push();
    expect(next.coalesced).toBe(false);
    expect(push()).toMatchObject({ coalesced: true, deployment: { id: next.deployment.id } });
    // A newer queued deployment (a pinned ref) is the one the database names: joined.
    const pinned = t.deployer.deploy(id, { trigger: 'manual', ref: 'main' });
    expect(push()).toMatchObject({ coalesced: true, deployment: { id: pinned.deployment.id } });
    g.open();
    for (const d of [first, next, pinned]) await t.deployer.waitFor(d.deployment.id);
    // Every one has run: a push queues (or runs) a new deployment.
    const after = push();
    expect(after.coalesced).toBe(false);
    expect([first, queued, next, pinned].map((d) => d.deployment.id)).not.toContain(
      after.deployment.id,
    );
    await t.deployer.waitFor(after.deployment.id);
  });

  it('runs a control command on the version current when it runs, not when it was queued', async () => {
    const t = setup();
    await t.stacks.create({ name: 'cq', compose: compose('v1') });
    await t.deployer.waitFor(t.deployer.deploy('cq', { trigger: 'manual' }).deployment.id);
    await t.stacks.update('cq', { compose: compose('v2') });
    const next = t.deployer.deploy('cq', { trigger: 'manual' }).deployment;
    t.lifecycle.control('cq', { command: 'restart' });
    await t.deployer.waitFor(next.id);
    await t.deployer.chain(t.stacks.get('cq').id, async () => {});
    const file = t.runner.calls.at(-1)?.options.cwd;
    expect(t.runner.calls.at(-1)?.args).toContain('restart');
    expect(readFileSync(join(file ?? '', 'compose.yaml'), 'utf8')).toContain('web:v2');
  });
});

describe('cancel and timeout', () => {
  it('cancels a queued deployment so it never starts', async () => {
    const t = setup({ maxConcurrent: 1 });
    const g = gate();
    t.runner.on(sub('up'), { until: g.promise });
    await t.stacks.create({ name: 'a', compose: compose('v1') });
    await t.stacks.create({ name: 'b', compose: compose('v1') });
    const a = t.deployer.deploy('a', { trigger: 'manual' }).deployment;
    const b = t.deployer.deploy('b', { trigger: 'manual' }).deployment;
    expect(t.deployer.cancel(b.id).status).toBe('canceled');
    await until(() => t.runner.alive === 1);
    g.open();
    await t.deployer.waitFor(a.id);
    for (let i = 0; i < 10; i++) await flush();
    expect(upProjects(t.runner)).toEqual(['simpledeploy-a']);
    expect(() => t.deployer.cancel(b.id)).toThrow(/already ended/);
  });

  it('kills a running deployment and re-applies the last good version when up was interrupted', async () => {
    const t = setup();
    await t.stacks.create({ name: 'c', compose: compose('v1') });
    const good = await t.deployer.waitFor(
      t.deployer.deploy('c', { trigger: 'manual' }).deployment.id,
    );
    await t.stacks.update('c', { compose: compose('v2') });
    const g = gate();
    t.runner.once(sub('up'), { until: g.promise });
    const dep = t.deployer.deploy('c', { trigger: 'manual' }).deployment;
    await until(() => t.runner.alive === 1);
    expect(t.deployer.getDeployment(dep.id).status).toBe('running');
    t.deployer.cancel(dep.id);
    const done = await t.deployer.waitFor(dep.id);
    expect(done.status).toBe('canceled');
    expect(done.error).toContain('re-applies version');
    const [reapply] = t.deployer.listDeployments('c');
    expect(reapply).toMatchObject({ trigger: 'rollback' });
    const after = await t.deployer.waitFor(reapply?.id ?? '');
    expect(after).toMatchObject({ status: 'succeeded', version_id: good.version_id });
    const ups = t.runner.calls.filter((c) => composeSubcommand(c.args) === 'up');
    expect(ups).toHaveLength(3);
    expect(ups[1]?.options.signal?.aborted).toBe(true);
    expect(t.stacks.get('c').current_version_id).toBe(good.version_id);
  });

  it('ends a hung compose at the stack timeout and records why', async () => {
    const t = setup();
    await t.stacks.create({ name: 'h', compose: compose('v1'), deploy_timeout_seconds: 60 });
    t.runner.on(sub('up'), { until: new Promise(() => {}) });
    const dep = t.deployer.deploy('h', { trigger: 'manual' }).deployment;
    await until(() => t.runner.alive === 1);
    await t.clock.advance(60_000);
    const done = await t.deployer.waitFor(dep.id);
    expect(done.status).toBe('failed');
    expect(done.error).toContain('timed out after 60 s');
  });
});

describe('rollback', () => {
  it('rolls back to the last good version when up fails, keeping the error', async () => {
    const t = setup();
    await t.stacks.create({ name: 'r', compose: compose('v1') });
    const good = await t.deployer.waitFor(
      t.deployer.deploy('r', { trigger: 'manual' }).deployment.id,
    );
    await t.stacks.update('r', { compose: compose('broken') });
    t.runner.once(sub('up'), {
      exitCode: 1,
      stderr: 'container simpledeploy-r-web-1 is unhealthy',
    });
    const done = await t.deployer.waitFor(
      t.deployer.deploy('r', { trigger: 'manual' }).deployment.id,
    );
    expect(done.status).toBe('rolled_back');
    expect(done.error).toContain('is unhealthy');
    expect(t.stacks.get('r').current_version_id).toBe(good.version_id);
    expect(t.runner.subcommands().slice(-8)).toEqual([
      'config',
      'ps',
      'config',
      'pull',
      'up',
      'ps',
      'config',
      'up',
    ]);
  });

  it('leaves a failed deploy failed when auto_rollback is off', async () => {
    const t = setup();
    await t.stacks.create({ name: 'n', compose: compose('v1'), auto_rollback: false });
    await t.deployer.waitFor(t.deployer.deploy('n', { trigger: 'manual' }).deployment.id);
    await t.stacks.update('n', { compose: compose('v2') });
    t.runner.once(sub('up'), { exitCode: 1, stderr: 'boom' });
    const done = await t.deployer.waitFor(
      t.deployer.deploy('n', { trigger: 'manual' }).deployment.id,
    );
    expect(done.status).toBe('failed');
  });

  it('re-applies an earlier version on request without its source', async () => {
    const t = setup();
    await t.stacks.create({ name: 'rb', compose: compose('v1') });
    const v1 = await t.deployer.waitFor(
      t.deployer.deploy('rb', { trigger: 'manual' }).deployment.id,
    );
    await t.stacks.update('rb', { compose: compose('v2') });
    await t.deployer.waitFor(t.deployer.deploy('rb', { trigger: 'manual' }).deployment.id);
    const rb = t.deployer.rollback('rb');
    expect(rb.trigger).toBe('rollback');
    const done = await t.deployer.waitFor(rb.id);
    expect(done.status).toBe('succeeded');
    expect(done.version_id).toBe(v1.version_id);
    expect(t.stacks.get('rb').current_version_id).toBe(v1.version_id);
  });

  it('refuses a rollback when there is no earlier good version', async () => {
    const t = setup();
    await t.stacks.create({ name: 'x', compose: compose('v1') });
    expect(() => t.deployer.rollback('x')).toThrow(/no earlier good version/);
  });
});

describe('crash safety and lifecycle', () => {
  it('marks deployments left queued or running by a previous process as interrupted', async () => {
    const t = setup();
    const s = await t.stacks.create({ name: 'crash', compose: compose('v1') });
    const at = '2026-01-01T00:00:00.000Z';
    insertDeployment(t.db, {
      id: 'd1',
      stackId: s.id,
      status: 'running',
      trigger: 'manual',
      queuedAt: at,
    });
    insertDeployment(t.db, {
      id: 'd2',
      stackId: s.id,
      status: 'queued',
      trigger: 'manual',
      queuedAt: at,
    });
    expect(t.deployer.recoverInterrupted()).toBe(2);
    expect(t.deployer.getDeployment('d1')).toMatchObject({ status: 'interrupted' });
    expect(t.deployer.getDeployment('d1').error).toContain('did not finish');
    expect(t.deployer.getDeployment('d2').finished_at).not.toBeNull();
    expect(t.stacks.get('crash').status).toBe('idle');
  });

  it('runs control commands against the current version with the exact argv', async () => {
    const t = setup();
    const s = await t.stacks.create({ name: 'ctl', compose: compose('v1') });
    await t.deployer.waitFor(t.deployer.deploy('ctl', { trigger: 'manual' }).deployment.id);
    t.runner.calls.length = 0;
    t.lifecycle.control('ctl', { command: 'restart', services: ['web'] });
    t.lifecycle.control('ctl', { command: 'scale', service: 'web', replicas: 2 });
    await t.deployer.chain(s.id, async () => {});
    const file = join(t.dataDir, 'stacks', s.id, 'deploy', 'compose.yaml');
    const vars = expect.stringMatching(/variables\.env$/);
    const base = ['compose', '-p', 'simpledeploy-ctl', '-f', file, '--env-file', vars];
    // Each command is judged by the policy on the deploy dir as it is now, then runs.
    expect(t.runner.calls.map((c) => c.args)).toEqual([
      [...base, '--profile', '*', 'config', '--format', 'json'],
      ['ps', '-q', '--filter', 'label=com.docker.compose.project=simpledeploy-ctl'],
      [...base, 'restart', 'web'],
      [...base, '--profile', '*', 'config', '--format', 'json'],
      ['ps', '-q', '--filter', 'label=com.docker.compose.project=simpledeploy-ctl'],
      [...base, 'up', '-d', '--no-deps', '--no-recreate', '--scale', 'web=2', 'web'],
    ]);
  });

  it('deletes a stack after taking its project down, with volumes only when asked', async () => {
    const t = setup();
    await t.stacks.create({ name: 'del', compose: compose('v1') });
    await t.stacks.remove('del', { removeVolumes: true });
    expect(t.runner.calls.at(-1)?.args).toEqual([
      'compose',
      '-p',
      'simpledeploy-del',
      'down',
      '--remove-orphans',
      '-v',
    ]);
    expect(() => t.stacks.get('del')).toThrow(/does not exist/);
  });

  it('keeps the stack when down fails', async () => {
    const t = setup();
    await t.stacks.create({ name: 'keep', compose: compose('v1') });
    t.runner.on(sub('down'), { exitCode: 1, stderr: 'Cannot connect to the Docker daemon' });
    await expect(t.stacks.remove('keep', { removeVolumes: false })).rejects.toThrow(/not deleted/);
    expect(t.stacks.get('keep').name).toBe('keep');
  });
});

describe('deploys that end on a known version', () => {
  const deployed = async (t: ReturnType<typeof setup>, name: string) =>
    t.deployer.waitFor(t.deployer.deploy(name, { trigger: 'manual' }).deployment.id);

  it('returns to the version that ran when the deployment started, never to an older one', async () => {
    const t = setup();
    await t.stacks.create({ name: 'back', compose: compose('v1') });
    const v1 = await deployed(t, 'back');
    await t.stacks.update('back', { compose: compose('v2') });
    const v2 = await deployed(t, 'back');
    expect(v2.version_id).not.toBe(v1.version_id);
    const rb = t.deployer.rollback('back', v1.version_id ?? undefined);
    expect((await t.deployer.waitFor(rb.id)).status).toBe('succeeded');
    // The re-apply a cancel queues (a rollback to the running v1) fails its first up, as
    // after a compose killed mid-recreate: it must retry v1, not cascade into v2.
    t.runner.once(sub('up'), { exitCode: 1, stderr: 'Conflict. The container name is in use' });
    const again = t.deployer.rollback('back', v1.version_id ?? undefined);
    const done = await t.deployer.waitFor(again.id);
    expect(done.status).toBe('rolled_back');
    expect(done.error).toContain(v1.version_id);
    expect(t.stacks.get('back').current_version_id).toBe(v1.version_id);
    const ups = t.runner.calls.filter((c) => composeSubcommand(c.args) === 'up');
    const file = (c: (typeof ups)[number]) => c.args[c.args.indexOf('-f') + 1] ?? '';
    expect(readFileSync(file(ups.at(-1) as (typeof ups)[number]), 'utf8')).toContain('web:v1');
  });

  it('repairs what a compose killed mid-recreate left before up', async () => {
    const t = setup();
    await t.stacks.create({ name: 'ren', compose: compose('v1') });
    t.runner.on((args) => args[0] === 'ps' && args.includes('-a'), {
      stdout: [
        // compose 2.26: the replacement under a temporary name, never started, beside the old
        'aaaaaaaaaaaa0000\tfedcba987654_simpledeploy-ren-web-1\tcreated',
        'fedcba9876540000\tsimpledeploy-ren-web-1\trunning',
        // older compose: the old container renamed, alone
        '0123456789ab0000\t0123456789ab_simpledeploy-ren-worker-1\texited',
      ].join('\n'),
    });
    expect((await deployed(t, 'ren')).status).toBe('succeeded');
    const docker = t.runner.calls
      .filter((c) => c.args[0] === 'rm' || c.args[0] === 'rename')
      .map((c) => c.args);
    expect(docker).toEqual([
      ['rm', '-f', 'aaaaaaaaaaaa0000'],
      ['rename', '0123456789ab0000', 'simpledeploy-ren-worker-1'],
    ]);
    const log = t.deployer.getDeployment(t.deployer.currentDeploymentId('ren')).log;
    expect(log.map((l) => l.text).join('\n')).toContain('left by an interrupted recreate');
  });

  it('builds the services with a build section, after pulling only the others', async () => {
    const files = {
      'compose.yaml': `services:\n  app:\n    image: local/app:1\n    build: ./app\n  db:\n    image: 127.0.0.1:5000/db:1\n`,
      'app/Dockerfile': 'FROM scratch\n',
    };
    const sources: SourceResolver = {
      resolve: async () => ({
        state: { files, composeFiles: ['compose.yaml'], variables: {}, services: [] },
        commit: 'c'.repeat(40),
      }),
    };
    const t = setup({ sources });
    await t.stacks.create({ name: 'b', repo_url: 'https://git.example/o/b.git' });
    expect((await deployed(t, 'b')).status).toBe('succeeded');
    const subs = t.runner.calls.map((c) => tailArgs(c.args).slice(0, 3));
    expect(subs).toContainEqual(['pull', '--ignore-buildable']);
    expect(subs).toContainEqual(['build', 'app']);
    expect(t.runner.subcommands().indexOf('build')).toBeLessThan(
      t.runner.subcommands().lastIndexOf('up'),
    );
  });

  it('refuses an inline stack that builds, or mounts a file it cannot have', async () => {
    const t = setup();
    await expect(
      t.stacks.create({ name: 'ib', compose: 'services:\n  a:\n    image: x\n    build: .\n' }),
    ).rejects.toThrow(/inline stack has no files to build from/);
    await expect(
      t.stacks.create({
        name: 'if',
        compose:
          'services:\n  a:\n    image: x\n    volumes: ["./nginx.conf:/etc/nginx/nginx.conf"]\n',
      }),
    ).rejects.toThrow(/a file an inline stack cannot have/);
    // A data directory is fine: Docker creates it.
    await t.stacks.create({
      name: 'id',
      compose: 'services:\n  a:\n    image: x\n    volumes: ["./data:/data"]\n',
    });
  });

  it('deploys an auto_deploy stack as soon as it is created', async () => {
    const t = setup();
    const s = await t.stacks.create({ name: 'auto', compose: compose('v1'), auto_deploy: true });
    expect(s.status).toBe('queued');
    const id = t.deployer.currentDeploymentId('auto');
    const done = await t.deployer.waitFor(id);
    expect(done).toMatchObject({ status: 'succeeded', trigger: 'api' });
  });
});
