import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchSection } from './env';
import { startServerProcess } from './processes';
import { seedDataDir } from './seed';
import type { BenchTarget } from './targets';
import { targetTable } from './targets';

const STACKS = Number(process.env.BENCH_STARTUP_STACKS ?? 1000);
const DEPLOYMENTS = Number(process.env.BENCH_STARTUP_DEPLOYMENTS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_STARTUP_ROUNDS ?? 3);

const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

// Retention off for the timed starts, so every one of them finds the whole history.
const KEEP_ALL = {
  SIMPLEDEPLOY_DEPLOYMENT_RETENTION_DAYS: '0',
  SIMPLEDEPLOY_DEPLOYMENT_KEEP_PER_STACK: '0',
};

async function timeStart(dataDir: string | undefined, env: Record<string, string> = KEEP_ALL) {
  const server = await startServerProcess({ ...(dataDir ? { dataDir } : {}), env });
  const out = { listening: server.listeningMs, health: server.healthMs };
  await server.stop();
  return out;
}

/**
 * Start-up with 1000 stacks and 100k deployments (issue 14): the bundled server process
 * from spawn to its first accepted connection and its first /health answer, against the
 * same server starting on an empty data dir, in turn.
 */
export async function benchStartup(): Promise<BenchSection> {
  const t = performance.now();
  const dataDir = seedDataDir({ stacks: STACKS, deployments: DEPLOYMENTS, logLines: 10 });
  const seedMs = performance.now() - t;
  const dbBytes = statSync(join(dataDir, 'simpledeploy.db')).size;
  try {
    const empty: { listening: number; health: number }[] = [];
    const full: { listening: number; health: number }[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      empty.push(await timeStart(undefined));
      full.push(await timeStart(dataDir));
    }
    // Once more with the default retention: pruning runs after the server listens.
    const pruning = await timeStart(dataDir, {});
    const listenFull = median(full.map((r) => r.listening));
    const listenEmpty = median(empty.map((r) => r.listening));
    const targets: BenchTarget[] = [
      {
        what: `listening with ${STACKS} stacks and ${DEPLOYMENTS / 1000}k deployments (absolute)`,
        ratio: listenFull / 1000,
        kind: 'max',
        bound: 2,
        unit: ' s',
      },
    ];
    return {
      title: `Start-up with ${STACKS} stacks and ${DEPLOYMENTS / 1000}k deployments (issue 14)`,
      targets,
      body: [
        `The bundled server (\`node apps/server/dist/main.js\`) started ${ROUNDS} times on a seeded database (${STACKS} stacks, ${DEPLOYMENTS} finished deployments with 10-line logs, ${(dbBytes / 2 ** 20).toFixed(0)} MiB, seeded in ${s(seedMs)}) and ${ROUNDS} times on an empty data dir (the baseline: the same process, nothing to load), in turn; each time from spawn to the first accepted TCP connection and to the first answer of \`GET /health\` (which asks the Docker engine and compose, so it follows the engine's speed). Retention is off for these starts (SIMPLEDEPLOY_DEPLOYMENT_RETENTION_DAYS=0, SIMPLEDEPLOY_DEPLOYMENT_KEEP_PER_STACK=0), so each one finds the whole history.`,
        '',
        row([
          'what',
          'empty data dir (baseline)',
          `${STACKS} stacks, ${DEPLOYMENTS / 1000}k deployments`,
          'ratio',
        ]),
        row(['---', '---', '---', '---']),
        row([
          'listening (median)',
          s(listenEmpty),
          s(listenFull),
          `**${(listenFull / listenEmpty).toFixed(2)}×**`,
        ]),
        row([
          '`/health` answers (median)',
          s(median(empty.map((r) => r.health))),
          s(median(full.map((r) => r.health))),
          `${(median(full.map((r) => r.health)) / median(empty.map((r) => r.health))).toFixed(2)}×`,
        ]),
        row([
          'each start: listening',
          empty.map((r) => s(r.listening)).join(', '),
          full.map((r) => s(r.listening)).join(', '),
          '',
        ]),
        '',
        targetTable(targets),
        '',
        `With the default retention the same database starts listening in ${s(pruning.listening)}: the pruning of deployments past retention runs after the server listens, in batches.`,
      ].join('\n'),
    };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
