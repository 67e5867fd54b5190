import { silentLogger } from '@simpledeploy/core';
import {
  createTestDb,
  insertDeployment,
  insertStack,
  listDeployments,
  recordDelivery,
} from '@simpledeploy/db';
import { createFakeClock } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { createDeploymentRetention } from './deployment-retention';

const NOW = new Date('2026-06-01T00:00:00.000Z');
const daysAgo = (d: number, minutes = 0) =>
  new Date(NOW.getTime() - d * 86_400_000 + minutes * 60_000).toISOString();

function setup(config: { days: number; keepPerStack: number }) {
  const { db } = createTestDb();
  const clock = createFakeClock(NOW.getTime());
  const retention = createDeploymentRetention({ db, clock, logger: silentLogger }, config);
  const stack = (name: string, currentVersionId: string | null = null) =>
    insertStack(db, {
      id: `stk_${name}`,
      name,
      compose: 'services: {}\n',
      currentVersionId,
      createdAt: daysAgo(400),
      updatedAt: daysAgo(400),
    });
  let n = 0;
  const dep = (
    stackId: string,
    ageDays: number,
    status: 'succeeded' | 'failed' | 'queued' | 'running' | 'canceled',
    versionId: string | null = null,
  ) => {
    const id = `dep_${String(n++).padStart(3, '0')}`;
    insertDeployment(db, {
      id,
      stackId,
      status,
      trigger: 'api',
      versionId,
      queuedAt: daysAgo(ageDays, n),
      log: [{ seq: 0, ts: daysAgo(ageDays), stream: 'stdout', text: 'line' }],
    });
    return id;
  };
  const ids = (stackId: string) =>
    listDeployments(db, stackId, 10_000)
      .map((d) => d.id)
      .sort();
  return { db, clock, retention, stack, dep, ids };
}

describe('deployment retention', () => {
  it('removes finished deployments past the days, keeping the latest, the last good one and the current version’s', async () => {
    const t = setup({ days: 30, keepPerStack: 0 });
    t.stack('a', 'ver_cur');
    const current = t.dep('stk_a', 200, 'succeeded', 'ver_cur'); // what runs now, long ago
    t.dep('stk_a', 150, 'succeeded', 'ver_old');
    const lastGood = t.dep('stk_a', 100, 'succeeded', 'ver_new'); // a later success, rolled back since
    t.dep('stk_a', 90, 'failed', 'ver_x');
    const oldQueued = t.dep('stk_a', 80, 'queued'); // never finished: never pruned
    const recent = t.dep('stk_a', 5, 'failed', 'ver_y');
    const latest = t.dep('stk_a', 1, 'canceled');

    const n = await t.retention.prune();
    expect(n.deployments).toBe(2);
    expect(t.ids('stk_a')).toEqual([current, lastGood, oldQueued, recent, latest].sort());
  });

  it('keeps at most N per stack besides the protected ones, and each stack counts alone', async () => {
    const t = setup({ days: 0, keepPerStack: 3 });
    t.stack('a');
    t.stack('b');
    const a = Array.from({ length: 8 }, (_, i) => t.dep('stk_a', 20 - i, 'failed'));
    const good = t.dep('stk_a', 30, 'succeeded', 'v1');
    const b = [t.dep('stk_b', 50, 'failed'), t.dep('stk_b', 40, 'succeeded')];

    const n = await t.retention.prune();
    // stk_a: the 3 newest failures, and its only success (the last good one).
    expect(t.ids('stk_a')).toEqual([...a.slice(5), good].sort());
    expect(t.ids('stk_b')).toEqual(b.sort());
    expect(n.deployments).toBe(5);
  });

  it('keeps everything with both limits off', async () => {
    const t = setup({ days: 0, keepPerStack: 0 });
    t.stack('a');
    const all = [
      t.dep('stk_a', 900, 'failed'),
      t.dep('stk_a', 800, 'succeeded'),
      t.dep('stk_a', 700, 'failed'),
    ];
    expect((await t.retention.prune()).deployments).toBe(0);
    expect(t.ids('stk_a')).toEqual(all.sort());
  });

  it('forgets webhook delivery ids after 30 days, so the table stays bounded too', async () => {
    const t = setup({ days: 0, keepPerStack: 0 });
    t.stack('a');
    recordDelivery(t.db, 'old-delivery', 'stk_a', daysAgo(31));
    recordDelivery(t.db, 'new-delivery', 'stk_a', daysAgo(2));
    expect((await t.retention.prune()).deliveries).toBe(1);
    expect(recordDelivery(t.db, 'new-delivery', 'stk_a', NOW.toISOString())).toBe(false);
    expect(recordDelivery(t.db, 'old-delivery', 'stk_a', NOW.toISOString())).toBe(true);
  });

  it('deletes in batches: a long history goes in one prune', async () => {
    const t = setup({ days: 10, keepPerStack: 0 });
    t.stack('a');
    for (let i = 0; i < 600; i++) t.dep('stk_a', 100 + i / 100, 'failed');
    const latest = t.dep('stk_a', 1, 'succeeded', 'v');
    expect((await t.retention.prune()).deployments).toBe(600);
    expect(t.ids('stk_a')).toEqual([latest]);
  });
});
