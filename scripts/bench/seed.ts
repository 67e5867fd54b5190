import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecretBox } from '@simpledeploy/core';
import { createDb, migrate, stacks } from '@simpledeploy/db';
import { BENCH_SECRET_KEY } from './processes';

export interface SeedOptions {
  stacks: number;
  /** Deployments spread evenly over the stacks, oldest first, each with a stored log. */
  deployments?: number;
  /** Lines in each deployment's stored log. */
  logLines?: number;
  /** Image the inline compose files name (never pulled: the seeded stacks are not deployed). */
  image?: string;
}

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * A data dir whose database holds `stacks` inline stacks (each with an encrypted registry
 * login, a webhook secret on every other one) and `deployments` finished deployments with
 * logs, written straight into SQLite (the API would run `compose config` per stack), with
 * the bench's secret key so a server started on it decrypts them. Returns the data dir.
 */
export function seedDataDir(opts: SeedOptions): string {
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-bench-seed-'));
  const handle = createDb(join(dataDir, 'simpledeploy.db'));
  migrate(handle.db);
  const box = createSecretBox(BENCH_SECRET_KEY);
  const image = opts.image ?? '127.0.0.1:5000/bench/sleeper:1';
  const start = Date.now() - 400 * 24 * 3600 * 1000;
  const stackIds: string[] = [];
  const insertStacks = handle.sqlite.transaction(() => {
    for (let i = 0; i < opts.stacks; i++) {
      const id = `stk_seed${String(i).padStart(6, '0')}`;
      stackIds.push(id);
      const t = iso(start + i * 1000);
      handle.db
        .insert(stacks)
        .values({
          id,
          name: `seed-${String(i).padStart(5, '0')}`,
          compose: `services:\n  web:\n    image: ${image}\n    environment:\n      GREETING: "stack ${i}"\n  worker:\n    image: ${image}\n    command: ["/bin/sleeper"]\n`,
          composeVariables: { TAG: '1', REGION: 'eu' },
          registriesEnc: box.encrypt(
            JSON.stringify({
              docker: { registry: '127.0.0.1:5000', username: 'bench', password: `pw-${i}` },
              extra: [],
            }),
          ),
          webhookSecretEnc: i % 2 === 0 ? box.encrypt(`hook-${i}`) : null,
          createdAt: t,
          updatedAt: t,
        })
        .run();
    }
  });
  insertStacks();
  const total = opts.deployments ?? 0;
  const lines = opts.logLines ?? 20;
  const span = Date.now() - 60_000 - start;
  const log = (n: number) =>
    Array.from({ length: lines }, (_, seq) => ({
      seq,
      ts: iso(start + n),
      stream: 'stdout' as const,
      text: `Container seed-web-1  Started (deployment ${n}, line ${seq})`,
    }));
  // A prepared statement, in batches: 100k rows in seconds, never all in memory at once.
  const insert = handle.sqlite.prepare(
    `insert into deployments (id, stack_id, status, "trigger", queued_at, started_at, finished_at, duration_ms, error, log)
     values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const batch = 5_000;
  for (let from = 0; from < total; from += batch) {
    handle.sqlite.transaction(() => {
      for (let n = from; n < Math.min(total, from + batch); n++) {
        const at = start + Math.floor((n / Math.max(1, total)) * span);
        const failed = n % 10 === 0;
        insert.run(
          `dep_seed${String(n).padStart(8, '0')}`,
          stackIds[n % stackIds.length] ?? '',
          failed ? 'failed' : 'succeeded',
          n % 3 === 0 ? 'webhook' : 'api',
          iso(at),
          iso(at + 10),
          iso(at + 2_000),
          1_990,
          failed ? 'compose up failed' : null,
          JSON.stringify(log(n)),
        );
      }
    })();
  }
  handle.close();
  return dataDir;
}
