import { rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BenchSection } from './env';
import { startBaseline, startServerProcess } from './processes';
import { seedDataDir } from './seed';
import { type BenchTarget, interleaved, targetTable } from './targets';
import { runWrk } from './wrk';

const SIZES = (process.env.BENCH_LIST_SIZES ?? '100,500,1000').split(',').map(Number);
const CONNECTIONS = 10;
const SECONDS = Number(process.env.BENCH_LIST_SECONDS ?? 3);
const ROUNDS = Number(process.env.BENCH_LIST_ROUNDS ?? 3);
const COLD = 11;

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const kib = (bytes: number) => `${(bytes / 1024).toFixed(0)} KiB`;
const median = (xs: number[]) =>
  [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;

interface SizeResult {
  stacks: number;
  bytes: number;
  summaryBytes: number;
  staticRps: number;
  listRps: number;
  ratio: number;
  summaryRps: number;
  notModifiedRps: number;
  coldMs: number;
  errors: number;
}

/** One list size: its own seeded database, server process and static baseline. */
async function measureSize(stacks: number): Promise<SizeResult> {
  const dataDir = seedDataDir({ stacks, deployments: stacks * 5 });
  const server = await startServerProcess({ dataDir });
  const bodyFile = join(tmpdir(), `sd-bench-list-${process.pid}-${stacks}.json`);
  try {
    const headers = { 'X-API-KEY': server.apiKey };
    const first = await fetch(`${server.base}/api/v1/stacks`, { headers });
    const body = await first.text();
    if (first.status !== 200 || JSON.parse(body).stacks.length !== stacks)
      throw new Error(`GET /api/v1/stacks with ${stacks} stacks answered ${first.status}`);
    const etag = first.headers.get('etag') ?? '';
    writeFileSync(bodyFile, body);
    const summary = await (
      await fetch(`${server.base}/api/v1/stacks?view=summary`, { headers })
    ).text();

    // Built from the database each time: a write (PATCH) before each timed GET.
    const cold: number[] = [];
    for (let i = 0; i < COLD; i++) {
      await server.api('PATCH', `/api/v1/stacks/seed-00000`, { auto_rollback: i % 2 === 0 });
      const t = performance.now();
      await (await fetch(`${server.base}/api/v1/stacks`, { headers })).arrayBuffer();
      cold.push(performance.now() - t);
    }

    const baseline = await startBaseline({ staticFile: bodyFile });
    try {
      const list = { path: '/api/v1/stacks', headers };
      const cmp = await interleaved(
        { url: baseline.base, connections: CONNECTIONS, seconds: SECONDS },
        { url: server.base, requests: [list], connections: CONNECTIONS, seconds: SECONDS },
        ROUNDS,
      );
      const summaryRun = await runWrk({
        url: server.base,
        requests: [{ path: '/api/v1/stacks?view=summary', headers }],
        connections: CONNECTIONS,
        seconds: SECONDS,
      });
      // The current ETag again (the PATCHes above moved it).
      const now = await fetch(`${server.base}/api/v1/stacks`, { headers });
      await now.arrayBuffer();
      const notModified = await runWrk({
        url: server.base,
        requests: [
          { ...list, headers: { ...headers, 'If-None-Match': now.headers.get('etag') ?? etag } },
        ],
        connections: CONNECTIONS,
        seconds: SECONDS,
        countStatuses: true,
      });
      if (!notModified.statuses['304'])
        throw new Error(
          `If-None-Match was not answered 304: ${JSON.stringify(notModified.statuses)}`,
        );
      return {
        stacks,
        bytes: Buffer.byteLength(body),
        summaryBytes: Buffer.byteLength(summary),
        staticRps: cmp.baseline.rps,
        listRps: cmp.subject.rps,
        ratio: cmp.ratio,
        summaryRps: summaryRun.rps,
        notModifiedRps: notModified.rps,
        coldMs: median(cold),
        errors: cmp.subject.errors + cmp.baseline.errors,
      };
    } finally {
      await baseline.stop();
    }
  } finally {
    await server.stop();
    rmSync(bodyFile, { force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/**
 * `GET /api/v1/stacks` with 100, 500 and 1000 stacks (issue 14): the server process
 * against Hono serving the same bytes as a static body from its own process, wrk in a
 * third, in turn; then the summary view, a 304 answer, and a list built afresh after a
 * write, per stack.
 */
export async function benchStackListExternal(): Promise<BenchSection> {
  const results: SizeResult[] = [];
  for (const n of SIZES) {
    console.log(`  stacks: ${n}`);
    results.push(await measureSize(n));
  }
  const usPerStack = (r: SizeResult, rps: number) => ((1 / rps) * 1e6) / r.stacks;
  const first = results[0];
  const last = results.at(-1);
  const targets: BenchTarget[] = results
    .filter((r) => r.stacks >= 500)
    .map((r) => ({
      what: `\`GET /api/v1/stacks\` with ${r.stacks} stacks vs Hono serving the same ${kib(r.bytes)} statically (throughput)`,
      ratio: r.ratio,
      kind: 'min' as const,
      bound: 0.5,
    }));
  if (first && last && first !== last) {
    targets.push({
      what: `cost per stack of an answer, ${last.stacks} vs ${first.stacks} stacks (flat: ≤ 1.5×)`,
      ratio: usPerStack(last, last.listRps) / usPerStack(first, first.listRps),
      kind: 'max',
      bound: 1.5,
    });
    targets.push({
      what: `cost per stack of a list built afresh after a write, ${last.stacks} vs ${first.stacks} stacks (flat: ≤ 1.5×)`,
      ratio: last.coldMs / last.stacks / (first.coldMs / first.stacks),
      kind: 'max',
      bound: 1.5,
    });
  }
  return {
    title: '`GET /api/v1/stacks` with 100, 500 and 1000 stacks (issue 14)',
    targets,
    body: [
      `Each size is its own database (seeded: inline stacks with an encrypted registry login, half with a webhook secret, 5 finished deployments each with logs), served by the bundled server in its own process (\`node apps/server/dist/main.js\`). The baseline is a bare Hono (@hono/node-server) in another process serving the very bytes of that list as a static body. wrk (Debian's, one thread, ${CONNECTIONS} connections) runs in a third process, baseline and simpledeploy in turn, ${ROUNDS} × ${SECONDS} s each; throughput pools the runs.`,
      '',
      row([
        'stacks',
        'answer',
        'static Hono (baseline)',
        'simpledeploy',
        'ratio',
        'µs per stack',
        '`?view=summary`',
        '`If-None-Match` → 304',
        'built afresh after a write',
      ]),
      row(['---', '---', '---', '---', '---', '---', '---', '---', '---']),
      ...results.map((r) =>
        row([
          r.stacks,
          kib(r.bytes),
          `${r.staticRps.toFixed(0)} req/s`,
          `${r.listRps.toFixed(0)} req/s`,
          `**${r.ratio.toFixed(2)}×**`,
          usPerStack(r, r.listRps).toFixed(1),
          `${r.summaryRps.toFixed(0)} req/s (${kib(r.summaryBytes)})`,
          `${r.notModifiedRps.toFixed(0)} req/s`,
          `${r.coldMs.toFixed(0)} ms (${((r.coldMs * 1000) / r.stacks).toFixed(0)} µs per stack)`,
        ]),
      ),
      '',
      targetTable(targets),
      '',
      'An answer is kept serialized under its ETag (the database\'s write count, the boot, the view, page and key scope), so a list asked again while nothing changed is a lookup and a write of its bytes; any write to the database makes the next answer be built afresh ("built afresh after a write": median of ' +
        `${COLD} GETs, each after a PATCH of one stack). Socket errors or non-2xx answers under load: ${results.reduce((a, r) => a + r.errors, 0)}.`,
    ].join('\n'),
  };
}
