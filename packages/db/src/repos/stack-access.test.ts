import { describe, expect, it } from 'vitest';
import { createTestDb } from '../client';
import { findStack, findStackAccessRow, insertStack } from './stacks';

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
