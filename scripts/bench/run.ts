import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Agent, setGlobalDispatcher } from 'undici';
import { benchCheckout } from './checkout';
import { benchDeploy } from './deploy';
import { type BenchEnv, type BenchSection, startBenchEnv } from './env';
import { benchIdlePolling } from './idle';
import { benchImageUpdates } from './image-updates';
import { benchPollCost } from './poll-cost';
import { benchPolling, pollingSection } from './polling';
import { benchRemoteSsh } from './remote-ssh';
import { benchStackListExternal } from './stack-list';
import { benchStartup } from './startup';
import { benchSwarm } from './swarm';
import { type BenchTarget, targetLine } from './targets';
import { benchViewers } from './viewers';
import { benchWebhookBurst } from './webhook-burst';
import { benchZeroDowntime } from './zero-downtime';

/** In run order; `BENCH_ONLY=webhooks,viewers` runs some of them (docs/benchmarks.md then holds only those). */
const BENCHES: [string, (env: BenchEnv) => Promise<BenchSection>][] = [
  ['deploy', benchDeploy],
  ['zero-downtime', benchZeroDowntime],
  ['swarm', benchSwarm],
  ['remote-ssh', benchRemoteSsh],
  ['webhooks', benchWebhookBurst],
  ['viewers', benchViewers],
  ['stacks', () => benchStackListExternal()],
  ['startup', () => benchStartup()],
  ['idle', () => benchIdlePolling()],
  ['polling', async () => pollingSection(await benchPolling())],
  ['poll-cost', () => benchPollCost()],
  ['checkout', () => benchCheckout()],
  ['image-updates', benchImageUpdates],
];

/**
 * `pnpm bench`: every benchmark against a baseline measured in the same run, on
 * loopback only, bounded; results go to docs/benchmarks.md with the command.
 */
async function main() {
  // The client shares the in-process server's event loop: a loop busy for seconds fires the
  // server's 5 s keep-alive close and the client's 4 s expiry in the same turn, and a request
  // lands on a closing connection. Expiring client connections well before the server's avoids it.
  setGlobalDispatcher(new Agent({ keepAliveTimeout: 1_000, keepAliveMaxTimeout: 1_000 }));
  const started = new Date();
  const env = await startBenchEnv();
  const sections: BenchSection[] = [];
  try {
    const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
    for (const [name, bench] of BENCHES) {
      if (only && !only.includes(name)) continue;
      console.log(`bench: ${name}`);
      sections.push(await bench(env));
    }
    const targets: BenchTarget[] = sections.flatMap((s) => s.targets ?? []);
    if (targets.length) console.log('\ntargets:');
    for (const t of targets) console.log(`  ${t.what}: ${targetLine(t)}`);
  } finally {
    await env.close();
  }
  const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
  const doc = [
    '# Benchmarks',
    '',
    'Produced by `pnpm bench` (scripts/bench/run.ts). Every figure is a ratio against a baseline measured in the same run on the same machine; absolute times vary with the machine and its load.',
    '',
    `Last run: ${started.toISOString()} on ${process.platform}/${process.arch}, Node ${process.version}.`,
    '',
    ...sections.flatMap((s) => [`## ${s.title}`, '', s.body, '']),
  ].join('\n');
  writeFileSync(join(root, 'docs/benchmarks.md'), doc);
  console.log('wrote docs/benchmarks.md');
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
