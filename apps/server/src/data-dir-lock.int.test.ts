import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, uniqueProjectName } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiClient, until } from './test-server';

const serverDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const bundle = join(serverDir, 'dist/main.js');
const API_KEY = `lock-key-${Math.random().toString(36).slice(2)}`;
const prefix = uniqueProjectName('sdtest');
// Never deployed: the test is about the data dir, not the engine.
const COMPOSE = 'services:\n  web:\n    image: busybox\n';
let dataDir: string;
const children = new Set<ChildProcess>();

/** The bundled server as `pnpm start` runs it, on the shared data dir. */
async function spawnServer() {
  const port = await getFreePort();
  const child = spawn(process.execPath, [bundle], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOST: '127.0.0.1',
      PORT: String(port),
      SIMPLEDEPLOY_API_KEY: API_KEY,
      SIMPLEDEPLOY_SECRET_KEY: 'lock-secret-key-0123456789',
      SIMPLEDEPLOY_DATA_DIR: dataDir,
      SIMPLEDEPLOY_PROJECT_PREFIX: prefix,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  void exited.then(() => children.delete(child));
  return {
    child,
    exited,
    output: () => out,
    api: apiClient(`http://127.0.0.1:${port}`, API_KEY),
  };
}

async function startServer() {
  const s = await spawnServer();
  await until(
    () => {
      if (s.child.exitCode !== null) throw new Error(`server exited early:\n${s.output()}`);
      return s.output().includes('simpledeploy is listening');
    },
    20_000,
    'the server to listen',
    100,
  );
  return s;
}

beforeAll(() => {
  execFileSync(join(serverDir, 'node_modules/.bin/tsup'), { cwd: serverDir, stdio: 'pipe' });
  dataDir = mkdtempSync(join(tmpdir(), 'sd-lock-'));
}, 120_000);

afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('one server per data directory', () => {
  it('refuses a second server while the first runs, and starts again after kill -9 of the first', async () => {
    const first = await startServer();
    const created = await first.api('POST', '/api/v1/stacks', { name: 'kept', compose: COMPOSE });
    expect(created.status, JSON.stringify(created.json)).toBe(201);

    const second = await spawnServer();
    const code = await Promise.race([
      second.exited,
      new Promise<'hung'>((r) => setTimeout(() => r('hung'), 10_000)),
    ]);
    expect(code, second.output()).toBe(1);
    expect(second.output()).toContain(
      `simpledeploy cannot start: another simpledeploy server is already running on data directory ${dataDir} (pid ${first.child.pid}); stop it or use another SIMPLEDEPLOY_DATA_DIR`,
    );
    expect(second.output()).not.toContain('listening');

    // The first one never noticed: it still reads and writes.
    expect(first.child.exitCode).toBeNull();
    const stacks = await first.api('GET', '/api/v1/stacks');
    expect(stacks.status).toBe(200);
    const patched = await first.api('PATCH', '/api/v1/stacks/kept', { auto_deploy: false });
    expect(patched.status, JSON.stringify(patched.json)).toBe(200);

    // kill -9 leaves no stale lock: the OS dropped it with the process.
    first.child.kill('SIGKILL');
    await first.exited;
    const third = await startServer();
    const after = await third.api('GET', '/api/v1/stacks');
    expect(after.json.stacks.map((s: { name: string }) => s.name)).toEqual(['kept']);

    // A graceful stop releases it too.
    third.child.kill('SIGTERM');
    expect(await third.exited).toBe(0);
    const fourth = await startServer();
    fourth.child.kill('SIGTERM');
    expect(await fourth.exited).toBe(0);
  });
});
