import { createRequire } from 'node:module';
import type * as Ssh2 from 'ssh2';

const requireCjs = createRequire(import.meta.url);
let loaded: typeof Ssh2 | undefined;

/**
 * ssh2, loaded when an SSH host first needs it rather than when the server starts: at load
 * it instantiates its WebAssembly poly1305 (a 16 MiB memory) and its modules, 3-4 MiB of
 * RSS that a server without SSH hosts never uses (issue 14).
 */
export function ssh2(): typeof Ssh2 {
  loaded ??= requireCjs('ssh2') as typeof Ssh2;
  return loaded;
}
