import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchDeploy } from './deploy';
import { type BenchSection, startBenchEnv } from './env';

/**
 * `pnpm bench`: every benchmark against a baseline measured in the same run, on
 * loopback only, bounded; results go to docs/benchmarks.md with the command.
 */
async function main() {
  const started = new Date();
  const env = await startBenchEnv();
  const sections: BenchSection[] = [];
  try {
    sections.push(await benchDeploy(env));
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
