import { chmodSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDb, createTestDb, migrate } from './client';
import {
  insertDeployment,
  latestDeploymentPerStack,
  listDeployments,
  stackStats,
} from './repos/deployments';
import { findStack, insertStack } from './repos/stacks';
import { recordDelivery } from './repos/webhook-deliveries';

const now = '2026-01-01T00:00:00.000Z';

describe('db', () => {
  it('migrates a fresh database with foreign keys on', () => {
    const { sqlite } = createTestDb();
    expect(sqlite.pragma('foreign_keys', { simple: true })).toBe(1);
  });

  it('finds a stack by id or by name', () => {
    const { db } = createTestDb();
    insertStack(db, { id: 'st_1', name: 'web', compose: 'x', createdAt: now, updatedAt: now });
    expect(findStack(db, 'st_1')?.name).toBe('web');
    expect(findStack(db, 'web')?.id).toBe('st_1');
    expect(findStack(db, 'nope')).toBeUndefined();
  });

  it('lists deployments newest first and counts stats', () => {
    const { db } = createTestDb();
    insertStack(db, { id: 's', name: 's', createdAt: now, updatedAt: now });
    insertDeployment(db, {
      id: 'd1',
      stackId: 's',
      status: 'succeeded',
      trigger: 'manual',
      queuedAt: '2026-01-01T00:00:01Z',
      durationMs: 100,
    });
    insertDeployment(db, {
      id: 'd2',
      stackId: 's',
      status: 'failed',
      trigger: 'manual',
      queuedAt: '2026-01-01T00:00:02Z',
      durationMs: 300,
    });
    expect(listDeployments(db, 's').map((d) => d.id)).toEqual(['d2', 'd1']);
    expect(stackStats(db, 's')).toMatchObject({
      total: 2,
      succeeded: 1,
      failed: 1,
      meanDurationMs: 200,
    });
  });

  it("finds every stack's latest deployment in one query", () => {
    const { db } = createTestDb();
    for (const id of ['a', 'b', 'c'])
      insertStack(db, { id, name: id, createdAt: now, updatedAt: now });
    insertDeployment(db, {
      id: 'a1',
      stackId: 'a',
      status: 'failed',
      trigger: 'manual',
      queuedAt: '2026-01-01T00:00:01Z',
    });
    insertDeployment(db, {
      id: 'b1',
      stackId: 'b',
      status: 'succeeded',
      trigger: 'manual',
      queuedAt: '2026-01-01T00:00:02Z',
    });
    insertDeployment(db, {
      id: 'a2',
      stackId: 'a',
      status: 'queued',
      trigger: 'poll',
      queuedAt: '2026-01-01T00:00:03Z',
    });
    const latest = latestDeploymentPerStack(db);
    expect([...latest.entries()].map(([k, v]) => [k, v.id]).sort()).toEqual([
      ['a', 'a2'],
      ['b', 'b1'],
    ]);
  });

  it('records a webhook delivery only once', () => {
    const { db } = createTestDb();
    insertStack(db, { id: 's', name: 's', createdAt: now, updatedAt: now });
    expect(recordDelivery(db, 'abc', 's', now)).toBe(true);
    expect(recordDelivery(db, 'abc', 's', now)).toBe(false);
  });
});

describe('the database file', () => {
  const mode = (p: string) => statSync(p).mode & 0o777;

  it('is created 0600, and its -wal and -shm with it', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sd-db-')), 'simpledeploy.db');
    const h = createDb(path);
    migrate(h.db);
    insertStack(h.db, { id: 's', name: 's', createdAt: now, updatedAt: now });
    for (const p of [path, `${path}-wal`, `${path}-shm`]) expect(mode(p), p).toBe(0o600);
    h.close();
  });

  it('is made 0600 when it exists with wider modes, -wal and -shm included', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'sd-db-')), 'simpledeploy.db');
    const first = createDb(path);
    migrate(first.db);
    first.close();
    writeFileSync(`${path}-wal`, '');
    writeFileSync(`${path}-shm`, '');
    for (const p of [path, `${path}-wal`, `${path}-shm`]) chmodSync(p, 0o666);
    const h = createDb(path);
    for (const p of [path, `${path}-wal`, `${path}-shm`]) expect(mode(p), p).toBe(0o600);
    expect(findStack(h.db, 'none')).toBeUndefined();
    h.close();
  });
});
