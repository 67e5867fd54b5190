import type { KeyInfo } from '../api';

// What the signed-in key may do, to hide what it cannot (the server refuses it anyway).
// An unknown key (null: not loaded yet, or a server without /keys/self) hides nothing.

/** Deploy, cancel and roll back: deployer and admin keys. */
export const canDeploy = (me: KeyInfo | null) => me === null || me.role !== 'viewer';

/** Create, change and delete stacks, run lifecycle commands: admin keys only. */
export const canAdmin = (me: KeyInfo | null) => me === null || me.role === 'admin';

/** "ci · deployer (web, api)": who is signed in, for the header. */
export function describeKey(me: KeyInfo): string {
  const scope = me.stacks.length ? ` (${me.stacks.join(', ')})` : '';
  return `${me.name} · ${me.role}${scope}`;
}
