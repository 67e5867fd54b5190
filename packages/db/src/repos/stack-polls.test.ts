import { describe, expect, it } from 'vitest';
import { createTestDb } from '../client';
import {
  findStack,
  findStackPollState,
  insertStack,
  recordPollOutcome,
  recordPollTimes,
} from './stacks';

const t = '2026-01-01T00:00:00.000Z';
const C1 = '1'.repeat(40);

describe("a poll's writes", () => {
  it('records a new commit, then a failure that keeps it, then the times of unchanged polls', () => {
    const { db } = createTestDb();
    insertStack(db, { id: 'a', name: 'a', repoUrl: 'http://g/a.git', createdAt: t, updatedAt: t });
    insertStack(db, { id: 'b', name: 'b', repoUrl: 'http://g/b.git', createdAt: t, updatedAt: t });

    recordPollOutcome(db, 'a', { at: 't1', commit: C1, error: null, failures: 0 });
    expect(findStackPollState(db, 'a')).toMatchObject({
      remoteCommit: C1,
      lastPollError: null,
      pollFailures: 0,
    });
    recordPollOutcome(db, 'a', { at: 't2', error: 'cannot reach g', failures: 1 });
    expect(findStack(db, 'a')).toMatchObject({
      remoteCommit: C1,
      lastPollAt: 't2',
      lastPollError: 'cannot reach g',
      pollFailures: 1,
    });

    recordPollTimes(
      db,
      new Map([
        ['a', 't3'],
        ['b', 't4'],
      ]),
    );
    expect([findStack(db, 'a')?.lastPollAt, findStack(db, 'b')?.lastPollAt]).toEqual(['t3', 't4']);
    // Only the time: the failure stays recorded until a poll succeeds.
    expect(findStack(db, 'a')?.pollFailures).toBe(1);
    // A poll's view is the stack's, without the rest of the row.
    expect(Object.keys(findStackPollState(db, 'b') ?? {})).not.toContain('compose');
  });
});
