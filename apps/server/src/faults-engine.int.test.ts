import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import {
  HANGING_HEALTHCHECK,
  type InProcessServer,
  startInProcessServer,
  until,
  untilUpStarted,
} from './test-server';

const registry = inject('registry');
const images = inject('images');

/**
 * A second, private Docker engine that this test may kill: its own socket, data and
 * exec roots (so its own containerd), no bridge and no iptables so it leaves the
 * shared engine's docker0 and rules alone. The shared engine is never touched.
 */
function privateEngine() {
  // Short path: a unix socket path must stay under 108 bytes.
  const dir = mkdtempSync('/tmp/sd-eng-');
  const host = `unix://${dir}/docker.sock`;
  let child: ChildProcess | undefined;
  let exited: Promise<void> = Promise.resolve();

  const answers = () => {
    try {
      execFileSync('docker', ['--host', host, 'version', '--format', '{{.Server.Version}}'], {
        stdio: 'pipe',
        timeout: 5_000,
      });
      return true;
    } catch {
      return false;
    }
  };

  /** Pids of every process started for this engine (dockerd, containerd, shims): their command lines name dir. */
  const ownProcesses = () =>
    readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .filter((p) => {
        try {
          return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(dir);
        } catch {
          return false;
        }
      })
      .map(Number)
      .filter((pid) => pid !== process.pid);

  return {
    host,
    dir,
    async start() {
      const log = openSync(join(dir, 'dockerd.log'), 'a');
      child = spawn(
        'dockerd',
        [
          '--host',
          host,
          '--data-root',
          join(dir, 'data'),
          '--exec-root',
          join(dir, 'exec'),
          '--pidfile',
          join(dir, 'docker.pid'),
          '--bridge',
          'none',
          '--iptables=false',
          '--ip-masq=false',
        ],
        { stdio: ['ignore', log, log] },
      );
      const c = child;
      exited = new Promise((r) => c.once('exit', () => r()));
      await until(
        () => {
          if (c.exitCode !== null) {
            throw new Error(
              `the private dockerd exited:\n${readFileSync(join(dir, 'dockerd.log'), 'utf8').slice(-2000)}`,
            );
          }
          return answers();
        },
        30_000,
        'the private dockerd to answer',
        300,
      );
    },
    /** SIGKILL: the engine vanishes mid-request, as in a crash or an OOM kill. */
    async kill() {
      child?.kill('SIGKILL');
      await exited;
    },
    /** Stops the engine and whatever it left, unmounts and deletes its directory. */
    async destroy() {
      if (child && child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child?.kill('SIGKILL'), 20_000);
        await exited;
        clearTimeout(timer);
      }
      for (const pid of ownProcesses()) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      const mounts = readFileSync('/proc/mounts', 'utf8')
        .split('\n')
        .map((l) => l.split(' ')[1] ?? '')
        .filter((m) => m.startsWith(dir))
        .sort((a, b) => b.length - a.length);
      for (const m of mounts) {
        try {
          execFileSync('umount', ['-l', m], { stdio: 'pipe' });
        } catch {
          // Not mounted any more.
        }
      }
      rmSync(dir, { recursive: true, force: true });
    },
    answers,
  };
}

let engine: ReturnType<typeof privateEngine>;
let server: InProcessServer;

// No bridge on the private engine: the containers need no network.
const compose = (extra = '') =>
  `services:\n  worker:\n    image: ${images.sleeper}\n    network_mode: none\n${extra}`;

async function health() {
  const res = await fetch(`${server.base}/health`, { signal: AbortSignal.timeout(15_000) });
  // biome-ignore lint/suspicious/noExplicitAny: assertions read the JSON
  return { status: res.status, json: (await res.json()) as any };
}

beforeAll(async () => {
  engine = privateEngine();
  await engine.start();
  server = await startInProcessServer({ DOCKER_HOST: engine.host });
});

afterAll(async () => {
  await server?.stop();
  // The project lives on the private engine, which is deleted whole.
  await engine?.destroy();
});

describe('the Docker engine stopped during a deploy', () => {
  it('fails the deploy clearly, keeps the server up with /health degraded, and recovers when the engine returns', async () => {
    const before = await health();
    expect(before.status, JSON.stringify(before.json)).toBe(200);

    const create = await server.api('POST', '/api/v1/stacks', {
      name: 'engine',
      compose: compose(),
      deploy_timeout_seconds: 90,
      docker_registry: registry.host,
      docker_username: registry.username,
      docker_password: registry.password,
    });
    expect(create.status, JSON.stringify(create.json)).toBe(201);
    const good = await server.api('POST', '/api/v1/stacks/engine/deploy?wait=true');
    expect(good.json.deployment.status, good.json.deployment.error).toBe('succeeded');

    // A deploy that waits in `up --wait`, then the engine dies under it.
    await server.api('PATCH', '/api/v1/stacks/engine', { compose: compose(HANGING_HEALTHCHECK) });
    const started = await server.api('POST', '/api/v1/stacks/engine/deploy');
    const id = started.json.deployment.id;
    await untilUpStarted(server.api, id);
    await new Promise((r) => setTimeout(r, 1000));
    await engine.kill();
    expect(engine.answers()).toBe(false);

    const done = await server.container.services.deployer.waitFor(id);
    expect(done.status).toBe('failed');
    expect(done.error).toMatch(/docker compose up failed: .*Cannot connect to the Docker daemon/);

    // The server is up and says what is wrong.
    expect((await server.api('GET', '/api/v1/stacks')).status).toBe(200);
    const down = await until(
      async () => {
        const h = await health();
        return h.status === 503 ? h : undefined;
      },
      20_000,
      '/health to report the engine down',
      500,
    );
    expect(down.json).toMatchObject({
      status: 'degraded',
      database: { ok: true },
      docker: { ok: false, error: expect.stringMatching(/engine does not answer/) },
      error: { code: 'UNAVAILABLE' },
    });
    // Reading the containers is refused with a sentence, not a crash.
    const services = await server.api('GET', '/api/v1/stacks/engine/services');
    expect(services.status).toBe(503);
    expect(services.json.error.code).toBe('UNAVAILABLE');

    // The engine returns: health recovers and the stack deploys again.
    await engine.start();
    await until(
      async () => (await health()).status === 200,
      20_000,
      '/health to report the engine back',
      500,
    );
    await server.api('PATCH', '/api/v1/stacks/engine', { compose: compose() });
    const again = await server.api('POST', '/api/v1/stacks/engine/deploy?wait=true');
    expect(again.json.deployment.status, again.json.deployment.error).toBe('succeeded');
    const rows = (await server.api('GET', '/api/v1/stacks/engine/services')).json.services;
    expect(rows.map((s: { service: string; state: string }) => [s.service, s.state])).toEqual([
      ['worker', 'running'],
    ]);
  });
});
