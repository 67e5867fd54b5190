import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, waitFor } from '@simpledeploy/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const serverDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const repoRoot = resolve(serverDir, '../..');
const bundle = join(serverDir, 'dist/main.js');

interface Running {
  child: ChildProcess;
  url: string;
  output: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

const running = new Set<Running>();

/** `pnpm start` as a user runs it: the bundle, from the repo root, with a clean environment. */
function startServer(env: Record<string, string>, port: number): Running {
  const child = spawn(process.execPath, [bundle], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
  const server = {
    child,
    url: `http://127.0.0.1:${port}`,
    output: () => out,
    stderr: () => err,
    exited,
  };
  running.add(server);
  void exited.then(() => running.delete(server));
  return server;
}

async function waitUntilListening(server: Running): Promise<void> {
  const exitedEarly = server.exited.then((code) => {
    throw new Error(
      `server exited ${code} before listening:\n${server.stderr()}${server.output()}`,
    );
  });
  exitedEarly.catch(() => {}); // A normal exit later must not count as an unhandled rejection.
  await Promise.race([
    exitedEarly,
    waitFor(
      'the server to listen',
      async () => server.output().includes('simpledeploy is listening'),
      {
        timeoutMs: 20_000,
      },
    ),
  ]);
}

let dataDir: string;

beforeAll(() => {
  // Build the bundle that `pnpm start` runs, so the test covers it (and the migrations lookup from it).
  execFileSync(join(serverDir, 'node_modules/.bin/tsup'), { cwd: serverDir, stdio: 'pipe' });
}, 120_000);

afterEach(async () => {
  for (const server of running) {
    server.child.kill('SIGKILL');
    await server.exited;
  }
});

afterAll(() => {
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('the built server', () => {
  it('starts with defaults, generates an API key once, reports healthy and stops on SIGTERM', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'sd-server-'));
    const server = startServer({ SIMPLEDEPLOY_DATA_DIR: dataDir }, await getFreePort());
    await waitUntilListening(server);

    const keyFile = join(dataDir, 'api-key');
    expect(statSync(keyFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(dataDir, 'secret-key')).mode & 0o777).toBe(0o600);
    const key = readFileSync(keyFile, 'utf8').trim();
    expect(server.output()).toContain(
      `Generated an API key (SIMPLEDEPLOY_API_KEY was not set): ${key}`,
    );
    // The key appears in that one notice only; log lines are redacted.
    expect(server.output().split(key)).toHaveLength(2);

    const health = await fetch(`${server.url}/health`);
    const body = (await health.json()) as Record<string, unknown>;
    expect(health.status, JSON.stringify(body)).toBe(200);
    expect(body).toMatchObject({
      status: 'ok',
      database: { ok: true },
      docker: { ok: true, version: expect.any(String) },
      compose: { ok: true, version: expect.stringMatching(/^2\./) },
    });
    expect((await fetch(`${server.url}/up`)).status).toBe(200);

    const anonymous = await fetch(`${server.url}/api/v1/anything`);
    expect(anonymous.status).toBe(401);
    const authed = await fetch(`${server.url}/api/v1/anything`, {
      headers: { Authorization: `Bearer ${key}` },
    });
    expect(authed.status).not.toBe(401);

    const metrics = await fetch(`${server.url}/metrics`);
    expect(await metrics.text()).toContain('process_resident_memory_bytes');

    const started = performance.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('reuses the stored API key silently on the next start, and honours SIMPLEDEPLOY_API_KEY', async () => {
    const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    const again = startServer({ SIMPLEDEPLOY_DATA_DIR: dataDir }, await getFreePort());
    await waitUntilListening(again);
    expect(again.output()).not.toContain('Generated an API key');
    const res = await fetch(`${again.url}/api/v1/anything`, { headers: { 'X-API-KEY': key } });
    expect(res.status).not.toBe(401);
    again.child.kill('SIGTERM');
    expect(await again.exited).toBe(0);

    const explicit = 'an-explicit-api-key-for-this-test';
    const withEnv = startServer(
      { SIMPLEDEPLOY_DATA_DIR: dataDir, SIMPLEDEPLOY_API_KEY: explicit },
      await getFreePort(),
    );
    await waitUntilListening(withEnv);
    const stored = await fetch(`${withEnv.url}/api/v1/anything`, { headers: { 'X-API-KEY': key } });
    expect(stored.status).toBe(401);
    const fromEnv = await fetch(`${withEnv.url}/api/v1/anything`, {
      headers: { 'X-API-KEY': explicit },
    });
    expect(fromEnv.status).not.toBe(401);
    withEnv.child.kill('SIGINT');
    expect(await withEnv.exited).toBe(0);
  });

  it('stops promptly on SIGTERM while a WebSocket and an event stream are open', async () => {
    const key = readFileSync(join(dataDir, 'api-key'), 'utf8').trim();
    const server = startServer({ SIMPLEDEPLOY_DATA_DIR: dataDir }, await getFreePort());
    await waitUntilListening(server);

    const ws = new WebSocket(`${server.url.replace('http', 'ws')}/api/v1/events/ws?token=${key}`);
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const wsClosed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    const events = await fetch(`${server.url}/api/v1/events`, { headers: { 'X-API-KEY': key } });
    expect(events.status).toBe(200);

    const started = performance.now();
    server.child.kill('SIGTERM');
    expect(await server.exited).toBe(0);
    expect(await wsClosed).toBe(1001);
    expect(performance.now() - started).toBeLessThan(8_000);
    await events.body?.cancel().catch(() => {});
  });

  it('refuses to start with an invalid configuration, listing every problem', async () => {
    const server = startServer(
      {
        SIMPLEDEPLOY_DATA_DIR: dataDir,
        SIMPLEDEPLOY_MAX_CONCURRENT_DEPLOYS: 'many',
        LOG_LEVEL: 'loud',
      },
      await getFreePort(),
    );
    expect(await server.exited).toBe(1);
    expect(server.stderr()).toContain('SIMPLEDEPLOY_MAX_CONCURRENT_DEPLOYS must be a whole number');
    expect(server.stderr()).toContain('LOG_LEVEL must be one of');
  });
});
