import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRedactor, silentLogger, systemClock } from '@simpledeploy/core';
import { createFakeRunner } from '@simpledeploy/testing/fakes';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ServerConfig } from './config';
import { buildContainer, type Container, databasePath } from './container';

const API_KEY = 'db-locked-api-key-0123456789';
const serverDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

let container: Container | undefined;
let holder: ChildProcess | undefined;
afterEach(async () => {
  holder?.kill('SIGKILL');
  holder = undefined;
  await container?.stop();
  container = undefined;
});

function build(): { c: Container; dataDir: string } {
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-locked-'));
  const config = loadConfig({
    SIMPLEDEPLOY_DATA_DIR: dataDir,
    SIMPLEDEPLOY_API_KEY: API_KEY,
    SIMPLEDEPLOY_SECRET_KEY: 'db-locked-secret-key-0123456789',
  }) as ServerConfig;
  const runner = createFakeRunner();
  runner.on((a) => a[0] === 'version', {
    stdout: JSON.stringify({ Server: { Version: '27.0.1' } }),
  });
  runner.on((a) => a[0] === 'compose' && a[1] === 'version', { stdout: '2.29.1\n' });
  container = buildContainer(config, {
    logger: silentLogger,
    redact: createRedactor([API_KEY]),
    clock: systemClock,
    runner,
    version: 'test',
  });
  return { c: container, dataDir };
}

/** Another process with the database's write lock (BEGIN IMMEDIATE, never committed). */
async function holdWriteLock(dbPath: string): Promise<ChildProcess> {
  const script = `
    const db = new (require('better-sqlite3'))(process.argv[1]);
    db.exec('BEGIN IMMEDIATE');
    process.stdout.write('locked\\n');
    setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['-e', script, dbPath], {
    cwd: serverDir,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((ok, fail) => {
    child.stdout?.on('data', (d: Buffer) => d.toString().includes('locked') && ok());
    child.once('exit', (code) => fail(new Error(`the lock holder exited with ${code}`)));
  });
  return child;
}

const request = (c: Container, method: string, path: string, body?: unknown) =>
  c.app.request(path, {
    method,
    headers: { 'X-API-KEY': API_KEY, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

const stack = (name: string) => ({ name, compose: 'services:\n  web:\n    image: busybox\n' });

describe('a database another process holds locked', () => {
  it('answers a write with 503 UNAVAILABLE and Retry-After at once, while reads and /health still answer', async () => {
    const { c, dataDir } = build();
    holder = await holdWriteLock(databasePath({ dataDir }));

    const started = performance.now();
    const res = await request(c, 'POST', '/api/v1/stacks', stack('blocked'));
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({
      error: {
        code: 'UNAVAILABLE',
        message: 'the database is locked by another process; retry in a moment',
        details: { retry_after_seconds: 1 },
      },
    });
    // The busy timeout, not 5 s: better-sqlite3 blocks the whole server while it waits.
    expect(elapsed).toBeLessThan(1000);

    const health = await request(c, 'GET', '/health');
    expect(health.status, await health.clone().text()).toBe(200);
    expect(((await health.json()) as { database: unknown }).database).toEqual({ ok: true });
    expect((await request(c, 'GET', '/api/v1/stacks')).status).toBe(200);

    // Once the other process lets go, the same write succeeds.
    holder.kill('SIGKILL');
    await new Promise((r) => holder?.once('exit', r));
    expect((await request(c, 'POST', '/api/v1/stacks', stack('blocked'))).status).toBe(201);
  });
});
