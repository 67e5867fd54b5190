import { createTestDb } from '@simpledeploy/db';
import { describe, expect, it, vi } from 'vitest';
import { createDeliveryRecorder } from './delivery-recorder';

const NOW = '2026-01-01T00:00:00.000Z';

function withStack() {
  const handle = createTestDb();
  handle.sqlite
    .prepare(
      "INSERT INTO stacks (id, name, uuid, created_at, updated_at, compose) VALUES ('s1', 'app', 'u1', ?, ?, 'services: {}')",
    )
    .run(NOW, NOW);
  return handle;
}

describe('delivery recorder', () => {
  it('writes the ids of one tick in one transaction and says which were new', async () => {
    const { db, sqlite } = withStack();
    const recorder = createDeliveryRecorder(db);
    const transaction = vi.spyOn(db, 'transaction');
    const first = await Promise.all([
      recorder.record('s1:a', 's1', NOW),
      recorder.record('s1:b', 's1', NOW),
      recorder.record('s1:a', 's1', NOW),
    ]);
    expect(first).toEqual([true, true, false]);
    expect(transaction).toHaveBeenCalledTimes(1);
    // Committed: a later tick sees them, and a new id is still new.
    expect(await recorder.record('s1:b', 's1', NOW)).toBe(false);
    expect(await recorder.record('s1:c', 's1', NOW)).toBe(true);
    const count = sqlite.prepare('SELECT count(*) AS n FROM webhook_deliveries').get() as {
      n: number;
    };
    expect(count.n).toBe(3);
  });

  it('fails every caller of a tick whose write fails', async () => {
    const { db, sqlite } = withStack();
    const recorder = createDeliveryRecorder(db);
    const pending = [recorder.record('s1:a', 's1', NOW), recorder.record('s1:b', 's1', NOW)];
    sqlite.close();
    for (const p of pending) await expect(p).rejects.toThrow();
  });
});
