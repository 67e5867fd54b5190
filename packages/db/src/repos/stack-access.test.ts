import { describe, expect, it } from 'vitest';
import { createTestDb, migrate } from '../client';
import { deleteStack, findStack, findStackAccessRow, insertStack, updateStack } from './stacks';

const t = '2026-01-01T00:00:00.000Z';

describe('findStackAccessRow', () => {
  it("reads the access check's and a push's columns of a stack by id, name or uuid", () => {
    const { db } = createTestDb();
    insertStack(db, {
      id: 'stk_1',
      name: 'web',
      uuid: '0b6c1d9e-5d0e-4a8e-9a57-3c1f1f6f4b10',
      compose: 'services: {}',
      repoUrl: 'http://git.local/web.git',
      repoBranch: 'main',
      composeIncludes: ['extra.yaml'],
      webhookSecretEnc: 'enc',
      webhookSignatureHeader: 'X-Signature',
      createdAt: t,
      updatedAt: t,
    });
    insertStack(db, { id: 'stk_2', name: 'other', compose: 'x', createdAt: t, updatedAt: t });
    const expected = {
      id: 'stk_1',
      name: 'web',
      webhookSecretEnc: 'enc',
      webhookSignatureHeader: 'X-Signature',
      repoUrl: 'http://git.local/web.git',
      repoBranch: 'main',
      repoUsername: null,
      repoTokenEnc: null,
      currentVersionId: null,
      composePath: null,
      composeIncludes: ['extra.yaml'],
    };
    for (const key of ['stk_1', 'web', '0b6c1d9e-5d0e-4a8e-9a57-3c1f1f6f4b10'])
      expect(findStackAccessRow(db, key)).toEqual(expected);
    // The same columns as the whole row.
    const whole = findStack(db, 'web') as Record<string, unknown>;
    for (const [k, v] of Object.entries(expected)) expect(whole[k]).toEqual(v);
    expect(findStackAccessRow(db, 'missing')).toBeUndefined();
  });
});

describe('findStackAccessRow within one turn of the event loop', () => {
  const nextTurn = () => new Promise((r) => setImmediate(r));
  const seed = () => {
    const handle = createTestDb();
    insertStack(handle.db, {
      id: 'stk_1',
      name: 'web',
      compose: 'services: {}',
      webhookSecretEnc: 'old',
      createdAt: t,
      updatedAt: t,
    });
    return handle;
  };

  it('reads a stack once per turn, and again in the next one', async () => {
    const { db } = seed();
    const first = findStackAccessRow(db, 'web');
    expect(findStackAccessRow(db, 'web')).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    await nextTurn();
    const later = findStackAccessRow(db, 'web');
    expect(later).not.toBe(first);
    expect(later).toEqual(first);
  });

  it('sees every write to stacks at once: a repository call, raw SQL, a delete, a create', () => {
    const { db, sqlite } = seed();
    expect(findStackAccessRow(db, 'web')?.webhookSecretEnc).toBe('old');
    updateStack(db, 'stk_1', { webhookSecretEnc: 'rotated' });
    expect(findStackAccessRow(db, 'web')?.webhookSecretEnc).toBe('rotated');
    sqlite.prepare("UPDATE stacks SET webhook_secret_enc = 'by hand' WHERE id = 'stk_1'").run();
    expect(findStackAccessRow(db, 'web')?.webhookSecretEnc).toBe('by hand');
    deleteStack(db, 'stk_1');
    expect(findStackAccessRow(db, 'web')).toBeUndefined();
    expect(findStackAccessRow(db, 'new')).toBeUndefined();
    insertStack(db, { id: 'stk_2', name: 'new', compose: 'x', createdAt: t, updatedAt: t });
    expect(findStackAccessRow(db, 'new')?.id).toBe('stk_2');
  });

  it('still sees writes after a migration that rebuilt the table (its triggers gone)', () => {
    const { db, sqlite } = seed();
    expect(findStackAccessRow(db, 'web')?.webhookSecretEnc).toBe('old');
    // What a migration rebuilding stacks does to the triggers of the old table.
    for (const op of ['insert', 'update', 'delete'])
      sqlite.exec(`DROP TRIGGER temp.simpledeploy_stacks_${op}`);
    migrate(db);
    expect(findStackAccessRow(db, 'web')?.webhookSecretEnc).toBe('old');
    sqlite.prepare("UPDATE stacks SET webhook_secret_enc = 'new' WHERE id = 'stk_1'").run();
    expect(findStackAccessRow(db, 'web')?.webhookSecretEnc).toBe('new');
  });
});
