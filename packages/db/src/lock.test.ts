import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireFileLock, type FileLock, LockHeldError } from './lock';

const held: FileLock[] = [];
afterEach(() => {
  for (const l of held.splice(0)) l.release();
});
const lockFile = () => join(mkdtempSync(join(tmpdir(), 'sd-lock-')), 'server.lock');

describe('acquireFileLock', () => {
  it('refuses a second holder at once, naming the first one’s pid', () => {
    const path = lockFile();
    held.push(acquireFileLock(path, 4242));
    const started = Date.now();
    const error = (() => {
      try {
        held.push(acquireFileLock(path, 5151));
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(LockHeldError);
    expect((error as LockHeldError).holderPid).toBe(4242);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('can be taken again once released, and release is idempotent', () => {
    const path = lockFile();
    const first = acquireFileLock(path, 1);
    first.release();
    first.release();
    const second = acquireFileLock(path, 2);
    held.push(second);
    expect(() => acquireFileLock(path, 3)).toThrow(/pid 2\)/);
  });
});
