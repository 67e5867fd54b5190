import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createGitClient } from '@simpledeploy/git';
import { startGitServer, type TestGitServer } from '@simpledeploy/testing';
import { type BenchSection, ms, ratio, stats } from './env';

export interface PollingBenchOptions {
  /** Stacks polled in one round; each has its own repository. Default 200. */
  stacks?: number;
  /** Requests in flight at once, as the reconciler runs them. Default 4. */
  concurrency?: number;
}

export interface RoundResult {
  /** Wall time of the whole round. */
  totalMs: number;
  /** Per stack. */
  perStack: ReturnType<typeof stats>;
  /** HTTP requests the git server answered during the round. */
  requests: number;
}

export interface PollingBenchResult {
  stacks: number;
  concurrency: number;
  /** `resolveRemote` (ref listing, no clone) for every stack: one polling round. */
  poll: RoundResult;
  /** A fresh shallow clone per stack: what a poller without ref listing would do. */
  clone: RoundResult;
  /** Checkout again into the existing clones with nothing new: the fetch-on-change path. */
  reuse: RoundResult;
}

/** Runs fn for each item with at most `limit` at once; per-item durations in ms. */
async function timed<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>) {
  const times: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      const t = performance.now();
      await fn(item);
      times.push(performance.now() - t);
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return { totalMs: performance.now() - t, times };
}

/**
 * The cost of one polling round over many stacks on a local git server (smart HTTP
 * with Basic auth, loopback only): a ref listing per stack, against a shallow clone per
 * stack, and against a no-change checkout into existing clones. Bounded by `stacks`.
 */
export async function benchPolling(opts: PollingBenchOptions = {}): Promise<PollingBenchResult> {
  const count = opts.stacks ?? 200;
  const concurrency = opts.concurrency ?? 4;
  const creds = { username: 'bench', token: `pw-${randomBytes(8).toString('hex')}` };
  const server: TestGitServer = await startGitServer({
    username: creds.username,
    password: creds.token,
  });
  const work = await mkdtemp(join(tmpdir(), 'sd-bench-poll-'));
  try {
    const repos = Array.from({ length: count }, (_, i) => ({
      url: `${server.url}/stack-${i}.git`,
      dir: join(work, `stack-${i}`),
    }));
    await timed(
      repos.map((_, i) => i),
      8,
      (i) =>
        server.createRepo(`stack-${i}`, {
          'compose.yaml': `services:\n  web:\n    image: 127.0.0.1:5000/web:v${i}\n`,
          '.env': `TAG=v${i}\n`,
          'README.md': `stack ${i}\n`,
        }),
    );
    const git = createGitClient({ requestTimeoutMs: 10_000 });

    const round = async (fn: (r: { url: string; dir: string }) => Promise<unknown>) => {
      const before = server.requestCount;
      const { totalMs, times } = await timed(repos, concurrency, fn);
      return { totalMs, perStack: stats(times), requests: server.requestCount - before };
    };

    // Warm-up: the first requests pay for connection setup and the server's page cache.
    await Promise.all(repos.slice(0, 4).map((r) => git.resolveRemote(r.url, undefined, creds)));
    const poll = await round((r) => git.resolveRemote(r.url, 'main', creds));
    const clone = await round((r) => git.checkout(r.url, 'main', r.dir, creds));
    const reuse = await round((r) => git.checkout(r.url, 'main', r.dir, creds));
    return { stacks: count, concurrency, poll, clone, reuse };
  } finally {
    await server.close();
    await rm(work, { recursive: true, force: true });
  }
}

/** The docs/benchmarks.md section for a polling result. */
export function pollingSection(r: PollingBenchResult): BenchSection {
  const row = (name: string, x: RoundResult) =>
    `| ${name} | ${ms(x.totalMs)} | ${ms(x.perStack.median)} | ${ms(x.perStack.p90)} | ${x.requests} | ${ratio(x.totalMs, r.poll.totalMs)} |`;
  return {
    title: `Polling: one round over ${r.stacks} stacks`,
    body: [
      `Each stack has its own repository on a local git server (git http-backend behind Basic auth, loopback); ${r.concurrency} requests in flight, as the reconciler runs them. simpledeploy polls with a ref listing and fetches only when the commit moved; the baseline is a shallow clone per stack.`,
      '',
      '| round | total | per stack (median) | per stack (p90) | HTTP requests | vs ref listing |',
      '|---|---|---|---|---|---|',
      row('ref listing (simpledeploy poll)', r.poll),
      row('shallow clone per stack', r.clone),
      row('checkout into the existing clone, no change', r.reuse),
    ].join('\n'),
  };
}
