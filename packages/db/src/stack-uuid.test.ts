import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDb, createTestDb, defaultMigrationsFolder, migrate } from './client';
import { findStack, insertStack, listStacks } from './repos/stacks';

const now = '2026-01-01T00:00:00.000Z';
const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** The committed migrations up to (not including) `tag`, in a folder of their own. */
function migrationsBefore(tag: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'sd-migrations-'));
  cpSync(defaultMigrationsFolder(), dir, { recursive: true });
  const path = join(dir, 'meta/_journal.json');
  const journal = JSON.parse(readFileSync(path, 'utf8')) as { entries: { tag: string }[] };
  const at = journal.entries.findIndex((e) => e.tag === tag);
  expect(at).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, at);
  writeFileSync(path, JSON.stringify(journal));
  return dir;
}

describe('stack uuid', () => {
  it('is a random v4 UUID given at insert, and finds the stack like its id and name', () => {
    const { db } = createTestDb();
    const a = insertStack(db, {
      id: 'st_1',
      name: 'a',
      compose: 'x',
      createdAt: now,
      updatedAt: now,
    });
    const b = insertStack(db, {
      id: 'st_2',
      name: 'b',
      compose: 'x',
      createdAt: now,
      updatedAt: now,
    });
    expect(a.uuid).toMatch(UUID_V4);
    expect(b.uuid).not.toBe(a.uuid);
    expect(findStack(db, a.uuid ?? '')?.id).toBe('st_1');
  });

  it('is backfilled, distinct and v4, for the stacks of a database made before it existed', () => {
    const { db, sqlite } = createDb(':memory:');
    migrate(db, migrationsBefore('0002_stack_uuid_signature_header'));
    const insert = sqlite.prepare(
      "insert into stacks (id, name, compose, created_at, updated_at) values (?, ?, 'x', ?, ?)",
    );
    for (let i = 0; i < 50; i++) insert.run(`st_${i}`, `s${i}`, now, now);
    migrate(db);
    const uuids = listStacks(db).map((s) => s.uuid);
    expect(uuids).toHaveLength(50);
    for (const u of uuids) expect(u).toMatch(UUID_V4);
    expect(new Set(uuids).size).toBe(50);
    expect(() =>
      sqlite.prepare('update stacks set uuid = ? where id = ?').run(uuids[0], 'st_1'),
    ).toThrow(/UNIQUE/);
  });
});
