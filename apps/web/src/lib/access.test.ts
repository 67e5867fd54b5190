import { describe, expect, it } from 'vitest';
import type { KeyInfo } from '../api';
import { canAdmin, canDeploy, describeKey } from './access';

const key = (role: KeyInfo['role'], stacks: string[] = []): KeyInfo => ({
  id: 'k',
  name: 'ci',
  role,
  stacks,
  created_at: null,
  last_used_at: null,
});

describe('what a key may do in the UI', () => {
  it('hides deploy actions from viewers and changes from everyone but admins', () => {
    expect([canDeploy(key('viewer')), canAdmin(key('viewer'))]).toEqual([false, false]);
    expect([canDeploy(key('deployer')), canAdmin(key('deployer'))]).toEqual([true, false]);
    expect([canDeploy(key('admin')), canAdmin(key('admin'))]).toEqual([true, true]);
  });

  it('hides nothing while the key is unknown', () => {
    expect([canDeploy(null), canAdmin(null)]).toEqual([true, true]);
  });

  it('says who is signed in, with the stacks a key is limited to', () => {
    expect(describeKey(key('deployer', ['web', 'api']))).toBe('ci · deployer (web, api)');
    expect(describeKey(key('admin'))).toBe('ci · admin');
  });
});
