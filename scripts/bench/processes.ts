import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, uniqueProjectName } from '@simpledeploy/testing';

const here = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = join(here, '../..');
const SERVER_MAIN = join(REPO_ROOT, 'apps/server/dist/main.js');
// BENCH_FROM_SOURCE=1: the server from its TypeScript through tsx (as `pnpm --filter
// @simpledeploy/server dev`), for profiling while the bundle cannot be built; never for figures.
const FROM_SOURCE = process.env.BENCH_FROM_SOURCE === '1';
const serverArgv = () =>
  FROM_SOURCE ? ['--import', 'tsx', join(REPO_ROOT, 'apps/server/src/main.ts')] : [SERVER_MAIN];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The secret key every bench server and seeded database share (SIMPLEDEPLOY_SECRET_KEY). */
export const BENCH_SECRET_KEY = 'bench-secret-key-0123456789abcdef';

// BENCH_PROFILE_DIR=/tmp/prof: every server process writes a V8 CPU profile there when it stops.
export const profileArgs = (): string[] =>
  process.env.BENCH_PROFILE_DIR
    ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_PROFILE_DIR}`]
    : [];

let built = process.env.BENCH_SKIP_BUILD === '1' || FROM_SOURCE;
/**
 * `pnpm build` once per bench run: the servers below run the bundle users run.
 * BENCH_SKIP_BUILD=1 runs the bundle already in apps/server/dist.
 */
export function buildOnce(): void {
  if (built) return;
  try {
    execFileSync('pnpm', ['build'], { cwd: REPO_ROOT, stdio: 'pipe' });
  } catch (error) {
    const out = String((error as { stdout?: Buffer }).stdout ?? '');
    const errors = out.split('\n').filter((l) => /error/i.test(l));
    throw new Error(`pnpm build failed:\n${errors.slice(0, 10).join('\n')}`);
  }
  built = true;
}

/** Ends a child process: SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
async function endChild(child: ChildProcess, graceMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds (the process listens). */
function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export interface ServerProcess {
  base: string;
  port: number;
  pid: number;
  apiKey: string;
  dataDir: string;
  /** SIMPLEDEPLOY_PROJECT_PREFIX: a stack's compose project is `<prefix>-<name>`. */
  projectPrefix: string;
  /** From spawn to the first accepted TCP connection, in ms. */
  listeningMs: number;
  /** From spawn to the first answer of `GET /health` (any status), in ms. */
  healthMs: number;
  // biome-ignore lint/suspicious/noExplicitAny: benchmarks read whatever JSON the API answers
  api(method: string, path: string, body?: unknown): Promise<{ status: number; json: any }>;
  /** SIGTERM (then SIGKILL); removes the data dir unless it was given. */
  stop(): Promise<void>;
}

export interface ServerProcessOptions {
  /** An existing data dir (e.g. a seeded database); default: a new empty one, removed at stop. */
  dataDir?: string;
  /** Extra environment (SIMPLEDEPLOY_*), on top of the bench's own. */
  env?: Record<string, string>;
  /** Give up waiting for /health after this long (the process is then killed). */
  startTimeoutMs?: number;
  /** Node flags before the script, e.g. ['--cpu-prof', '--cpu-prof-dir=/tmp/prof'] to profile it. */
  nodeArgs?: string[];
}

/**
 * The server as users start it: `node apps/server/dist/main.js` (what `pnpm start` runs,
 * built by `pnpm build`), configured by the environment, on 127.0.0.1 and a free port, in
 * its own process. Resolves once `/health` answers, with the start-up times measured from
 * the spawn.
 */
export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  buildOnce();
  const ownDir = !opts.dataDir;
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'sd-bench-proc-'));
  const apiKey = `bench-${randomBytes(12).toString('hex')}`;
  const port = await getFreePort();
  const projectPrefix = uniqueProjectName('sdtest-bench').slice(0, 30);
  const t0 = performance.now();
  const child = spawn(
    process.execPath,
    [...profileArgs(), ...(opts.nodeArgs ?? []), ...serverArgv()],
    {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH ?? '/usr/bin:/bin',
        HOME: process.env.HOME ?? '/root',
        HOST: '127.0.0.1',
        PORT: String(port),
        SIMPLEDEPLOY_API_KEY: apiKey,
        SIMPLEDEPLOY_SECRET_KEY: BENCH_SECRET_KEY,
        SIMPLEDEPLOY_DATA_DIR: dataDir,
        SIMPLEDEPLOY_PROJECT_PREFIX: projectPrefix,
        LOG_LEVEL: 'warn',
        ...opts.env,
      },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await endChild(child);
    if (ownDir) rmSync(dataDir, { recursive: true, force: true });
  };
  let listeningMs = Number.NaN;
  let healthMs = Number.NaN;
  const deadline = t0 + (opts.startTimeoutMs ?? 60_000);
  try {
    while (Number.isNaN(healthMs)) {
      if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode}`);
      if (performance.now() > deadline)
        throw new Error('the server did not answer /health in time');
      if (Number.isNaN(listeningMs)) {
        if (await canConnect(port)) listeningMs = performance.now() - t0;
        else {
          await sleep(5);
          continue;
        }
      }
      const answered = await fetch(`${base}/health`).then(
        () => true,
        () => false,
      );
      if (answered) healthMs = performance.now() - t0;
      else await sleep(5);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    base,
    port,
    pid: child.pid ?? 0,
    apiKey,
    dataDir,
    projectPrefix,
    listeningMs,
    healthMs,
    async api(method, path, body) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { 'X-API-KEY': apiKey, 'content-type': 'application/json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      return { status: res.status, json: text ? JSON.parse(text) : undefined };
    },
    stop,
  };
}

export interface BaselineProcess {
  base: string;
  pid: number;
  stop(): Promise<void>;
}

/**
 * A baseline server in its own process (baseline-server.mjs): `hello` is a bare Hono
 * hello-world (`GET /`, and `POST /` reading the body, 202); `static` serves the bytes of
 * `bodyFile` as JSON on `GET /`.
 */
export async function startBaseline(
  kind: { hello: true } | { staticFile: string },
): Promise<BaselineProcess> {
  const port = await getFreePort();
  const child = spawn(process.execPath, [join(here, 'baseline-server.mjs')], {
    cwd: here,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      PORT: String(port),
      BASELINE_KIND: 'hello' in kind ? 'hello' : 'static',
      ...('staticFile' in kind ? { BASELINE_BODY_FILE: kind.staticFile } : {}),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const stop = () => endChild(child, 2_000);
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 15_000);
    child.stdout?.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('listening')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('exit', () => resolve(false));
  });
  if (!ready) {
    await stop();
    throw new Error('the baseline server did not start');
  }
  return { base: `http://127.0.0.1:${port}`, pid: child.pid ?? 0, stop };
}
