import { describe, expect, it } from 'vitest';
import { createTestDb } from '../client';
import { hosts } from '../schema';
import { insertHost } from './hosts';
import { reencryptSecrets } from './secrets';

describe('reencryptSecrets', () => {
  it("moves hosts' keys and certificates to the new key, leaving public columns alone", () => {
    const handle = createTestDb();
    const t = '2026-01-01T00:00:00.000Z';
    insertHost(handle.db, {
      id: 'host_a',
      name: 'a',
      dockerHost: 'ssh://root@10.0.0.2',
      sshPrivateKeyEnc: 'old:key',
      sshKnownHosts: '10.0.0.2 ssh-ed25519 AAAA',
      tlsCaEnc: 'old:ca',
      createdAt: t,
      updatedAt: t,
    });
    const res = reencryptSecrets(
      handle,
      (s) => {
        if (!s.startsWith('old:')) throw new Error('not old');
        return s.slice(4);
      },
      (p) => `new:${p}`,
    );
    const row = handle.db
      .select()
      .from(hosts)
      .all()
      .find((h) => h.id === 'host_a');
    expect(row?.sshPrivateKeyEnc).toBe('new:key');
    expect(row?.tlsCaEnc).toBe('new:ca');
    expect(row?.sshKnownHosts).toBe('10.0.0.2 ssh-ed25519 AAAA');
    expect(res.values).toBe(2);
  });
});
