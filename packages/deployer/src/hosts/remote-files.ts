import { posix } from 'node:path';
import type { SFTPWrapper, Stats } from 'ssh2';

const lstat = (s: SFTPWrapper, p: string) =>
  new Promise<Stats | undefined>((resolve) =>
    s.lstat(p, (err, st) => resolve(err ? undefined : st)),
  );
const call = (fn: (cb: (err?: Error | null) => void) => void) =>
  new Promise<void>((resolve, reject) => fn((err) => (err ? reject(err) : resolve())));

/** Removes a remote entry that is in the way (a file, a planted symlink, a directory tree). */
async function removeEntry(s: SFTPWrapper, path: string, st: Stats): Promise<void> {
  if (!st.isDirectory()) return call((cb) => s.unlink(path, cb));
  const list = await new Promise<{ filename: string; attrs: Stats }[]>((resolve, reject) =>
    s.readdir(path, (err, l) => (err ? reject(err) : resolve(l as never))),
  );
  for (const e of list) await removeEntry(s, posix.join(path, e.filename), e.attrs);
  await call((cb) => s.rmdir(path, cb));
}

/**
 * Makes every component of an absolute remote path a real directory, never following a
 * symlink: a link in the way (planted by a container with a read-write mount of the stack
 * directory) is removed and a directory made in its place.
 */
export async function ensureRemoteDir(s: SFTPWrapper, abs: string, mode = 0o755): Promise<void> {
  let cur = '/';
  for (const part of abs.split('/').filter(Boolean)) {
    cur = posix.join(cur, part);
    const st = await lstat(s, cur);
    if (st?.isDirectory()) continue;
    if (st) await removeEntry(s, cur, st);
    await call((cb) => s.mkdir(cur, { mode }, cb));
  }
}

/**
 * Writes files (paths relative to root, already confined by the caller) under a remote root
 * the way the local deploy dir is written: whatever is at a file's place is removed, then
 * the file is created exclusively, so no write follows a link.
 */
export async function writeRemoteFiles(
  s: SFTPWrapper,
  root: string,
  files: Record<string, string>,
  signal?: AbortSignal,
): Promise<void> {
  await ensureRemoteDir(s, root, 0o700);
  for (const [rel, content] of Object.entries(files)) {
    if (signal?.aborted) throw new Error('aborted');
    const target = posix.join(root, rel);
    await ensureRemoteDir(s, posix.dirname(target));
    const st = await lstat(s, target);
    if (st) await removeEntry(s, target, st);
    await new Promise<void>((resolve, reject) => {
      s.open(target, 'wx', 0o644, (err, handle) => {
        if (err) return reject(err);
        const data = Buffer.from(content);
        const finish = (e?: Error | null) =>
          s.close(handle, (closeErr) => (e || closeErr ? reject(e ?? closeErr) : resolve()));
        if (!data.length) return finish();
        s.write(handle, data, 0, data.length, 0, (werr) => finish(werr));
      });
    });
  }
}

/**
 * Where a remote path really leads: the deepest existing ancestor resolved by the remote
 * side (symlinks followed there), with the missing tail appended.
 */
export async function remoteRealpath(s: SFTPWrapper, abs: string): Promise<string> {
  const missing: string[] = [];
  let cur = abs;
  for (;;) {
    const resolved = await new Promise<string | undefined>((resolve) =>
      s.realpath(cur, (err, p) => resolve(err ? undefined : p)),
    );
    if (resolved !== undefined && (await lstat(s, cur)))
      return posix.join(resolved, ...missing.reverse());
    if (cur === '/') return abs;
    missing.push(posix.basename(cur));
    cur = posix.dirname(cur);
  }
}
