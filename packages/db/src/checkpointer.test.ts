import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startCheckpointer } from './checkpointer';
import { createDb, type DbHandle } from './client';

describe('the checkpoint worker', () => {
  let dir: string;
  let handle: DbHandle;
  let path: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sd-ckpt-'));
    path = join(dir, 'db.sqlite');
    handle = createDb(path);
    handle.sqlite.exec('CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  });
  afterEach(() => {
    if (handle.sqlite.open) handle.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** About 2 MiB of rows, committed 100 at a time. */
  const write = () => {
    const insert = handle.sqlite.prepare('INSERT INTO t (body) VALUES (?)');
    const many = handle.sqlite.transaction(() => {
      for (let i = 0; i < 100; i++) insert.run('x'.repeat(1000));
    });
    for (let i = 0; i < 20; i++) many();
  };
  const autocheckpoint = () => handle.sqlite.pragma('wal_autocheckpoint', { simple: true });
  const until = async (ok: () => boolean) => {
    const deadline = Date.now() + 4_000;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise((r) => setTimeout(r, 20));
    }
  };

  it('copies the WAL into the database file off the event loop; commits no longer do', async () => {
    const before = statSync(path).size;
    const checkpointer = startCheckpointer(handle.sqlite, { path, everyMs: 50 });
    expect(autocheckpoint()).toBe(0);
    write();
    // The commits themselves copied nothing: the file holds what it held.
    expect(statSync(path).size).toBe(before);
    await until(() => statSync(path).size > 2_000_000);
    await checkpointer.stop();
    expect(autocheckpoint()).toBe(1000);
  });

  it('hands checkpoints back to the commits when the worker fails', async () => {
    const errors: unknown[] = [];
    startCheckpointer(handle.sqlite, {
      path: join(dir, 'no-such-file.sqlite'),
      everyMs: 50,
      onError: (e) => errors.push(e),
    });
    await until(() => errors.length > 0);
    expect(autocheckpoint()).toBe(1000);
    // The worker's exit after its error is the same failure: said once.
    await new Promise((r) => setTimeout(r, 200));
    expect(errors).toHaveLength(1);
    expect(String(errors[0])).toMatch(/unable to open|no such file|exited/i);
  });
});
