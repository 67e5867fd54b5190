import { describe, expect, it } from 'vitest';
import { createTestDb } from '../client';
import { listDeployedUnreconciledStacks, listStackSchedules } from './stack-schedules';
import { insertStack } from './stacks';

const t = '2026-01-01T00:00:00.000Z';

describe('stack schedules', () => {
  it("lists every stack's id and intervals only", () => {
    const { db } = createTestDb();
    insertStack(db, {
      id: 'a',
      name: 'a',
      compose: 'x',
      reconcileIntervalSeconds: 60,
      createdAt: t,
      updatedAt: t,
    });
    insertStack(db, {
      id: 'b',
      name: 'b',
      compose: 'x',
      updateCheckIntervalSeconds: 3600,
      createdAt: t,
      updatedAt: t,
    });
    const rows = listStackSchedules(db).sort((x, y) => x.id.localeCompare(y.id));
    expect(rows).toEqual([
      { id: 'a', reconcileIntervalSeconds: 60, updateCheckIntervalSeconds: 0 },
      { id: 'b', reconcileIntervalSeconds: 0, updateCheckIntervalSeconds: 3600 },
    ]);
  });

  it('lists the deployed compose stacks that do not reconcile, by name', () => {
    const { db } = createTestDb();
    const stack = (id: string, extra: Record<string, unknown>) =>
      insertStack(db, { id, name: id, compose: 'x', createdAt: t, updatedAt: t, ...extra });
    stack('z-watched', { currentVersionId: 'v1' });
    stack('a-watched', { currentVersionId: 'v2' });
    stack('never-deployed', {});
    stack('reconciles', { currentVersionId: 'v3', reconcileIntervalSeconds: 60 });
    stack('swarm', { currentVersionId: 'v4', engine: 'swarm' });
    expect(listDeployedUnreconciledStacks(db).map((s) => s.name)).toEqual([
      'a-watched',
      'z-watched',
    ]);
  });
});
