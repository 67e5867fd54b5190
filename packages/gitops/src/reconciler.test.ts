import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriftItem } from '@simpledeploy/compose';
import {
  AppError,
  createRedactor,
  createSecretBox,
  type GitClient,
  noopMetrics,
  silentLogger,
} from '@simpledeploy/core';
import { createTestDb, findStack, type StackRow } from '@simpledeploy/db';
import {
  createServices,
  createSourceResolver,
  inlineState,
  type SourceResolver,
} from '@simpledeploy/deployer';
import { createFakeClock, createFakeRunner, sub } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createReconciler, onGrid } from './reconciler';

const C1 = '1'.repeat(40);
const C2 = '2'.repeat(40);
const C3 = '3'.repeat(40);

function setup() {
  const { db } = createTestDb();
  const runner = createFakeRunner();
  const clock = createFakeClock();
  const secrets = createSecretBox('reconciler-test');
  const remote = {
    commit: C1,
    error: undefined as AppError | undefined,
    calls: 0,
    tokens: [] as (string | undefined)[],
  };
  const git: GitClient = {
    async resolveRemote(_url, ref, creds) {
      remote.calls++;
      remote.tokens.push(creds.token);
      if (remote.error) throw remote.error;
      return { ref: `refs/heads/${ref ?? 'main'}`, commit: remote.commit };
    },
    async checkout() {
      throw new Error('the reconciler never clones');
    },
  };
  // The git source as the deployer sees it: the compose of the stack, at the asked commit.
  const gitSource: SourceResolver = {
    async resolve(stack, _secrets, opts) {
      const commit = opts.ref && opts.ref.length === 40 ? opts.ref : remote.commit;
      const state = inlineState({ ...stack, compose: 'services:\n  web:\n    image: w\n' });
      // Each commit has its own content, as a real tree would.
      return { state: { ...state, files: { ...state.files, COMMIT: commit } }, commit };
    },
  };
  const services = createServices({
    db,
    runner,
    clock,
    logger: silentLogger,
    secrets,
    redact: createRedactor([]),
    sources: createSourceResolver(gitSource),
    config: {
      dataDir: mkdtempSync(join(tmpdir(), 'sd-rec-')),
      projectPrefix: 'simpledeploy',
      maxConcurrent: 3,
      childEnv: { PATH: '/usr/bin:/bin' },
      reapplyRetryDelayMs: 0,
    },
  });
  const drift = { items: undefined as DriftItem[] | undefined, calls: 0 };
  const reconciler = createReconciler({
    db,
    deployer: services.deployer,
    git,
    drift: {
      async containerDrift() {
        drift.calls++;
        return drift.items;
      },
    },
    secrets,
    clock,
    logger: silentLogger,
    random: () => 0.5,
  });
  const row = (name: string) => findStack(db, name) as StackRow;
  const deployments = (name: string) => services.deployer.listDeployments(name);
  return { db, runner, clock, remote, drift, reconciler, row, deployments, ...services };
}

/** Lets real file I/O of a deploy finish (bounded). */
async function until(cond: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 2));
  }
}

const gitStack = (extra: Record<string, unknown> = {}) => ({
  name: 'app',
  repo_url: 'http://127.0.0.1:1/app.git',
  repo_token: 'tok-123456',
  reconcile_interval_seconds: 10,
  ...extra,
});

const settled = (t: ReturnType<typeof setup>, name: string) =>
  t.deployments(name).every((d) => d.status !== 'queued' && d.status !== 'running');

describe('reconciler: polling', () => {
  it('records the remote commit without auto_deploy, so the stack shows it is behind', async () => {
    const t = setup();
    await t.stacks.create(gitStack());
    t.reconciler.start();
    await t.clock.advance(5_000); // random 0.5 → first poll half an interval after start
    await until(() => t.row('app').lastPollAt !== null);
    expect(t.row('app')).toMatchObject({ remoteCommit: C1, lastPollError: null, pollFailures: 0 });
    expect(t.stacks.get('app')).toMatchObject({ remote_commit: C1, behind: true });
    expect(t.deployments('app')).toEqual([]);
    await t.reconciler.stop();
  });

  it('deploys a new commit with auto_deploy (trigger poll), once per commit', async () => {
    const t = setup();
    // auto_deploy deploys at create already, not at the first poll.
    await t.stacks.create(gitStack({ auto_deploy: true }));
    await until(() => t.deployments('app').length === 1 && settled(t, 'app'));
    expect(t.deployments('app')[0]).toMatchObject({
      trigger: 'api',
      git_commit: C1,
      status: 'succeeded',
    });
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.remote.calls >= 1);
    expect(t.stacks.get('app')).toMatchObject({ deployed_commit: C1, behind: false });
    // The first poll finds the deployed commit: nothing to do.
    expect(t.deployments('app')).toHaveLength(1);

    t.remote.commit = C2;
    await t.clock.advance(10_000);
    await until(() => t.deployments('app').length === 2 && settled(t, 'app'));
    expect(t.deployments('app')[0]).toMatchObject({ trigger: 'poll', ref: C2, git_commit: C2 });

    // Nothing new: no deploy.
    await t.clock.advance(10_000);
    await until(() => t.remote.calls >= 3);
    expect(t.deployments('app')).toHaveLength(2);
    await t.reconciler.stop();
  });

  it('does not deploy a commit again whose deployment failed', async () => {
    const t = setup();
    t.runner.on(sub('up'), { exitCode: 1, stderr: 'boom' });
    await t.stacks.create(gitStack({ auto_deploy: true, auto_rollback: false }));
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.deployments('app').length === 1 && settled(t, 'app'));
    expect(t.deployments('app')[0]?.status).toBe('failed');
    for (let i = 0; i < 3; i++) await t.clock.advance(10_000);
    await until(() => t.remote.calls >= 4);
    expect(t.deployments('app')).toHaveLength(1);
    expect(t.stacks.get('app').behind).toBe(true);

    // A new commit is tried.
    t.runner.on(sub('up'), { exitCode: 0 });
    t.remote.commit = C3;
    await t.clock.advance(10_000);
    await until(() => t.deployments('app').length === 2 && settled(t, 'app'));
    expect(t.deployments('app')[0]).toMatchObject({ git_commit: C3, status: 'succeeded' });
    await t.reconciler.stop();
  });

  it('records a failing poll and backs off, then clears the error when it recovers', async () => {
    const t = setup();
    await t.stacks.create(gitStack());
    t.remote.error = new AppError('UNAVAILABLE', 'cannot reach 127.0.0.1:1: ECONNREFUSED');
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.row('app').pollFailures === 1);
    expect(t.stacks.get('app').poll).toEqual({
      last_poll_at: '2026-01-01T00:00:05.000Z',
      last_error: 'cannot reach 127.0.0.1:1: ECONNREFUSED',
      failures: 1,
    });
    // Backoff: the next poll is two intervals later, not one.
    await t.clock.advance(10_000);
    expect(t.remote.calls).toBe(1);
    await t.clock.advance(10_000);
    await until(() => t.row('app').pollFailures === 2);
    // Four intervals after that.
    await t.clock.advance(30_000);
    expect(t.remote.calls).toBe(2);
    t.remote.error = undefined;
    await t.clock.advance(10_000);
    await until(() => t.row('app').pollFailures === 0);
    expect(t.row('app')).toMatchObject({ lastPollError: null, remoteCommit: C1 });
    await t.reconciler.stop();
  });

  it('caps the backoff at ten intervals and never stops polling', async () => {
    const t = setup();
    await t.stacks.create(gitStack());
    t.remote.error = new AppError('UNAVAILABLE', 'down');
    t.reconciler.start();
    await t.clock.advance(5_000);
    const delays: number[] = [];
    for (let i = 1; i <= 7; i++) {
      await until(() => t.row('app').pollFailures === i && !t.reconciler.scheduled()[0]?.running);
      const next = Date.parse(t.reconciler.scheduled()[0]?.nextAt ?? '');
      delays.push(next - t.clock.now().getTime());
      await t.clock.advance(next - t.clock.now().getTime());
    }
    expect(delays).toEqual([20_000, 40_000, 80_000, 100_000, 100_000, 100_000, 100_000]);
    await t.reconciler.stop();
  });

  it('picks up stacks created, changed and deleted at run time', async () => {
    const t = setup();
    t.reconciler.start();
    expect(t.reconciler.scheduled()).toEqual([]);
    const s = await t.stacks.create(gitStack());
    expect(t.reconciler.scheduled().map((x) => x.stackId)).toEqual([s.id]);
    await t.stacks.update('app', { reconcile_interval_seconds: 0 });
    expect(t.reconciler.scheduled()).toEqual([]);
    await t.stacks.update('app', { reconcile_interval_seconds: 20 });
    expect(t.reconciler.scheduled()[0]?.intervalMs).toBe(20_000);
    await t.stacks.remove('app', { removeVolumes: false });
    expect(t.reconciler.scheduled()).toEqual([]);
    await t.reconciler.stop();
  });
});

describe('reconciler: stacks on the same repository', () => {
  it('share one ref listing per round when repository, branch and credentials match', async () => {
    const t = setup();
    // random() is 0.5: every stack polls at 5 s, then every 10 s.
    for (const name of ['a', 'b', 'c']) await t.stacks.create(gitStack({ name }));
    await t.stacks.create(gitStack({ name: 'other-token', repo_token: 'tok-654321' }));
    await t.stacks.create(gitStack({ name: 'other-branch', repo_branch: 'dev' }));
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => ['a', 'b', 'c'].every((n) => t.row(n).lastPollAt !== null));
    await until(() => t.row('other-token').lastPollAt !== null);
    await until(() => t.row('other-branch').lastPollAt !== null);
    // a, b and c share one; the other token and the other branch ask for themselves.
    expect(t.remote.calls).toBe(3);
    for (const name of ['a', 'b', 'c', 'other-token', 'other-branch']) {
      expect(t.row(name)).toMatchObject({ remoteCommit: C1, pollFailures: 0 });
    }

    // Next round, a new commit: the shared answer is older than half an interval.
    t.remote.commit = C2;
    await t.clock.advance(10_000);
    await until(() => ['a', 'b', 'c'].every((n) => t.row(n).remoteCommit === C2));
    await until(() => t.remote.calls === 6);
    await t.reconciler.stop();
  });

  it('an unchanged poll moves last_poll_at only; a new token is used from the next poll', async () => {
    const t = setup();
    await t.stacks.create(gitStack());
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.row('app').lastPollAt !== null);
    const first = t.row('app');
    expect(first).toMatchObject({ remoteCommit: C1, pollFailures: 0, lastPollError: null });
    await t.clock.advance(10_000);
    await until(() => t.remote.calls === 2 && t.row('app').lastPollAt !== first.lastPollAt);
    expect(t.row('app')).toEqual({ ...first, lastPollAt: t.row('app').lastPollAt });
    expect(Date.parse(t.row('app').lastPollAt ?? '')).toBeGreaterThan(
      Date.parse(first.lastPollAt ?? ''),
    );
    await t.stacks.update('app', { repo_token: 'tok-rotated-654321' });
    await t.clock.advance(10_000);
    await until(() => t.remote.calls === 3);
    expect(t.remote.tokens).toEqual(['tok-123456', 'tok-123456', 'tok-rotated-654321']);
    await t.reconciler.stop();
  });

  it('does not share a failed listing: each stack records its own failure', async () => {
    const t = setup();
    for (const name of ['a', 'b']) await t.stacks.create(gitStack({ name }));
    t.remote.error = new AppError('UNAVAILABLE', 'cannot reach 127.0.0.1:1: ECONNREFUSED');
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.row('a').pollFailures === 1 && t.row('b').pollFailures === 1);
    expect(t.remote.calls).toBe(2);
    await t.reconciler.stop();
  });

  it('asks afresh when a stack is reconciled now, outside its schedule', async () => {
    const t = setup();
    for (const name of ['a', 'b']) await t.stacks.create(gitStack({ name }));
    await t.reconciler.reconcileNow('a');
    await t.reconciler.reconcileNow('b');
    expect(t.remote.calls).toBe(2);
  });
});

describe('reconciler: drift', () => {
  const stopped: DriftItem[] = [
    { service: 'web', type: 'stopped', expected: 'running', actual: 'exited (0)' },
  ];

  async function deployedInline(autoDeploy: boolean) {
    const t = setup();
    await t.stacks.create({
      name: 'inl',
      compose: 'services:\n  web:\n    image: w\n',
      auto_deploy: autoDeploy,
      reconcile_interval_seconds: 10,
    });
    const { deployment } = t.deployer.deploy('inl', { trigger: 'manual' });
    await t.deployer.waitFor(deployment.id);
    return t;
  }

  it('only reports drift without auto_deploy', async () => {
    const t = await deployedInline(false);
    t.drift.items = stopped;
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.drift.calls === 1);
    expect(t.deployments('inl')).toHaveLength(1);
    await t.reconciler.stop();
  });

  it('repairs drift with auto_deploy (trigger drift), and backs off when the repair does not cure it', async () => {
    const t = await deployedInline(true);
    t.drift.items = stopped;
    t.reconciler.start();
    await t.clock.advance(5_000);
    await until(() => t.deployments('inl').length === 2 && settled(t, 'inl'));
    expect(t.deployments('inl')[0]?.trigger).toBe('drift');

    // The same drift right after the repair: held back, not deployed in a loop.
    await t.clock.advance(10_000);
    await until(() => t.drift.calls === 2);
    expect(t.deployments('inl')).toHaveLength(2);
    // Retried after the backoff (two intervals after the first attempt).
    await t.clock.advance(10_000);
    await until(() => t.deployments('inl').length === 3 && settled(t, 'inl'));
    // Then four intervals: the next two checks hold back.
    await t.clock.advance(10_000);
    await t.clock.advance(10_000);
    await until(() => t.drift.calls === 5);
    expect(t.deployments('inl')).toHaveLength(3);

    // Cured: the guard resets, and new drift is repaired at once.
    t.drift.items = [];
    await t.clock.advance(10_000);
    await until(() => t.drift.calls === 6);
    t.drift.items = [{ service: 'web', type: 'missing', expected: 'w', actual: null }];
    await t.clock.advance(10_000);
    await until(() => t.deployments('inl').length === 4 && settled(t, 'inl'));
    await t.reconciler.stop();
  });

  it('keeps reconciling when the drift check throws', async () => {
    const t = await deployedInline(true);
    let calls = 0;
    const reconciler = createReconciler({
      db: t.db,
      deployer: t.deployer,
      drift: {
        async containerDrift() {
          calls++;
          throw new AppError('UNAVAILABLE', 'engine down');
        },
      },
      secrets: createSecretBox('reconciler-test'),
      clock: t.clock,
      logger: silentLogger,
      random: () => 0.5,
    });
    reconciler.start();
    await t.clock.advance(5_000);
    await until(() => calls === 1);
    await t.clock.advance(10_000);
    await until(() => calls === 2);
    await reconciler.stop();
  });
});

describe('reconciler: reporting drift', () => {
  it('counts and publishes drift.detected once per new drift, and never redeploys a crash loop', async () => {
    const t = setup();
    await t.stacks.create({
      name: 'loop',
      compose: 'services:\n  web:\n    image: w\n',
      auto_deploy: true,
      reconcile_interval_seconds: 10,
    });
    const { deployment } = t.deployer.deploy('loop', { trigger: 'manual' });
    await t.deployer.waitFor(deployment.id);
    const published: { event: string; message: string }[] = [];
    let counted = 0;
    let items: DriftItem[] = [
      {
        service: 'web',
        container: 'simpledeploy-loop-web-1',
        type: 'crash_loop',
        expected: 'at most 5 restarts in 10 minutes',
        actual: 'restarted 6 times in the last 10 minutes (restarting)',
      },
    ];
    let checks = 0;
    const reconciler = createReconciler({
      db: t.db,
      deployer: t.deployer,
      drift: {
        async containerDrift() {
          checks++;
          return items;
        },
      },
      secrets: createSecretBox('reconciler-test'),
      clock: t.clock,
      logger: silentLogger,
      random: () => 0.5,
      metrics: { ...noopMetrics, driftDetected: () => counted++ },
      notify: { publish: (n) => published.push(n) },
    });
    reconciler.start();
    await t.clock.advance(5_000);
    await until(() => checks === 1);
    await t.clock.advance(10_000);
    await until(() => checks === 2);
    // The same crash loop twice: one notification, one count, and no repair deploy.
    expect(published).toEqual([
      {
        event: 'drift.detected',
        stack: t.row('loop').id,
        message: 'loop drifted from its deployed version: crash_loop:web',
        details: { drift: items },
      },
    ]);
    expect(counted).toBe(1);
    expect(t.deployments('loop')).toHaveLength(1);
    // Cured, then drifted again: reported again.
    items = [];
    await t.clock.advance(10_000);
    await until(() => checks === 3);
    items = [{ service: 'web', type: 'stopped', expected: 'running', actual: 'exited (1)' }];
    await t.clock.advance(10_000);
    await until(() => checks === 4);
    expect(published.map((p) => p.message)).toEqual([
      'loop drifted from its deployed version: crash_loop:web',
      'loop drifted from its deployed version: stopped:web',
    ]);
    expect(counted).toBe(2);
    await reconciler.stop();
  });
});

/**
 * A reconciler of t's stacks whose remote answers through `list` (never a clone), with
 * stacks `names` each on its own repository (stacks of one repository share a listing).
 */
async function withRemote(
  t: ReturnType<typeof setup>,
  list: () => Promise<void>,
  names: string[],
  opts: Partial<Parameters<typeof createReconciler>[0]> = {},
) {
  const reconciler = createReconciler({
    db: t.db,
    deployer: t.deployer,
    git: {
      async resolveRemote() {
        await list();
        return { ref: 'refs/heads/main', commit: C1 };
      },
      async checkout() {
        throw new Error('the reconciler never clones');
      },
    },
    drift: { containerDrift: async () => undefined },
    secrets: createSecretBox('reconciler-test'),
    clock: t.clock,
    logger: silentLogger,
    random: () => 0.5,
    ...opts,
  });
  for (const name of names) {
    await t.stacks.create(gitStack({ name, repo_url: `http://127.0.0.1:1/${name}.git` }));
  }
  return reconciler;
}

describe('reconciler: polling in rounds', () => {
  it('puts each poll on the next point of the grid, a tenth of short intervals', () => {
    expect(onGrid(0, 4_200, 60_000)).toBe(5_000);
    expect(onGrid(300, 4_700, 60_000)).toBe(4_700);
    expect(onGrid(1_999, 0, 60_000)).toBe(1);
    expect(onGrid(0, 250, 2_000)).toBe(400); // grid of 200 ms for a 2 s interval
    expect(onGrid(5_000, 0, 60_000)).toBe(0);
  });

  it('polls stacks due within the same second in one round, and writes their times together', async () => {
    const t = setup();
    let r = 0;
    // Spread over 10 s by the jitter, as the real random would: three land in the same second.
    const draws = [0.11, 0.13, 0.18, 0.55];
    const polledAt: number[] = [];
    const reconciler = await withRemote(
      t,
      async () => {
        polledAt.push(t.clock.now().getTime());
      },
      ['a', 'b', 'c', 'd'],
      { random: () => draws[r++ % draws.length] as number },
    );
    reconciler.start();
    const start = t.clock.now().getTime();
    const due = reconciler.scheduled().map((s) => Date.parse(s.nextAt) - start);
    expect(due.sort((x, y) => x - y)).toEqual([2_000, 2_000, 2_000, 6_000]);

    await t.clock.advance(2_000);
    await until(() => polledAt.length === 3);
    expect(polledAt).toEqual([start + 2_000, start + 2_000, start + 2_000]);
    await t.clock.advance(4_000);
    await until(() => polledAt.length === 4);
    // A first poll finds a commit: written at once.
    expect(t.row('d').lastPollAt).toBe('2026-01-01T00:00:06.000Z');
    // Polls that find nothing new have their times written at most every 10 s: a, b and
    // c again at 12 s (the first such write: at once), d at 17 s (held until 22 s).
    await t.clock.advance(6_000);
    await until(() => polledAt.length === 7);
    expect(t.row('a').lastPollAt).toBe('2026-01-01T00:00:12.000Z');
    await t.clock.advance(5_000);
    await until(() => polledAt.length === 8);
    expect(t.row('d').lastPollAt).toBe('2026-01-01T00:00:06.000Z');
    await t.clock.advance(5_000);
    expect(t.row('d').lastPollAt).toBe('2026-01-01T00:00:17.000Z');
    await reconciler.stop();
  });

  it('records the poll time of a stack synced by hand', async () => {
    const t = setup();
    await t.stacks.create(gitStack());
    const first = await t.reconciler.reconcileNow('app');
    expect(first.pollFailures).toBe(0);
    const before = t.row('app').lastPollAt;
    await t.clock.advance(1_000);
    await t.reconciler.reconcileNow('app');
    expect(t.row('app').lastPollAt).not.toBe(before);
    expect(t.row('app').lastPollAt).toBe(t.clock.now().toISOString());
  });
});

describe('reconciler: concurrency', () => {
  it('sends the listings of a round together, up to maxConcurrentPolls', async () => {
    const t = setup();
    let inFlight = 0;
    let most = 0;
    const gate: (() => void)[] = [];
    const names = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const reconciler = await withRemote(
      t,
      async () => {
        inFlight++;
        most = Math.max(most, inFlight);
        await new Promise<void>((r) => gate.push(r));
        inFlight--;
      },
      names,
      { maxConcurrent: 1, maxConcurrentPolls: 5 },
    );
    reconciler.start();
    await t.clock.advance(5_000);
    await until(() => inFlight === 5);
    // Drift checks have their own (smaller) limit: it does not hold the listings back.
    expect(most).toBe(5);
    while (names.some((n) => t.row(n).lastPollAt === null)) {
      gate.shift()?.();
      await new Promise((r) => setTimeout(r, 1));
    }
    expect(most).toBe(5);
    await reconciler.stop();
  });
});
