import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { cleanupProject, getFreePort } from '@simpledeploy/testing';
import { WebSocketServer } from 'ws';
import type { BenchEnv, BenchSection } from './env';
import { fmt } from './load-kit';

const VIEWERS = Number(process.env.BENCH_VIEWERS ?? 500);
const LINES = Number(process.env.BENCH_VIEWER_LINES ?? 200);
/** One line every this many ms while the viewers follow. */
const LINE_EVERY_MS = 10;

const here = dirname(fileURLToPath(import.meta.url));

interface ChildResult {
  viewers: {
    n: number;
    first?: number;
    last?: number;
    inOrder: boolean;
    end?: string;
    code?: number;
  }[];
  latency: { n: number; p50: number; p99: number; max: number };
}

/** Starts the viewers process; resolves `ready` once all are connected and `result` once all have closed. */
function startViewers(url: string, count: number) {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(here, 'viewers-child.ts'), url, String(count)],
    {
      cwd: here,
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout });
  let onReady: () => void = () => {};
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  const result = new Promise<ChildResult>((resolve, reject) => {
    lines.on('line', (line) => {
      const m = JSON.parse(line) as { ready?: number; error?: string } & ChildResult;
      if (m.ready !== undefined) onReady();
      else if (m.error) reject(new Error(m.error));
      else resolve(m);
    });
    child.once('exit', (code) => {
      if (code !== 0) reject(new Error(`the viewers process exited ${code}`));
    });
  });
  return { ready, result, pid: child.pid ?? 0 };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Emits LINES lines at a steady pace through emit(seq, ts). */
async function pace(emit: (seq: number, ts: string) => void) {
  const start = performance.now();
  for (let i = 1; i <= LINES; i++) {
    emit(i, new Date().toISOString());
    const due = start + i * LINE_EVERY_MS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
  }
}

const text = (i: number) => ` Container web-${i % 7}  Waiting (line ${i} of the benchmark)`;

/** The baseline: a bare `ws` server that broadcasts the same messages, at the same pace. */
async function baseline() {
  const port = await getFreePort();
  const wss = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((r) => wss.once('listening', r));
  const viewers = startViewers(`ws://127.0.0.1:${port}/`, VIEWERS);
  await viewers.ready;
  await pace((seq, ts) => {
    const msg = JSON.stringify({ type: 'line', seq, ts, stream: 'stdout', text: text(seq) });
    for (const c of wss.clients) c.send(msg);
  });
  for (const c of wss.clients) {
    c.send(JSON.stringify({ type: 'end', status: 'succeeded' }));
    c.close(1000);
  }
  const result = await viewers.result;
  await new Promise((r) => wss.close(r));
  return result;
}

const mib = (bytes: number) => bytes / 1024 / 1024;

/**
 * 500 WebSocket viewers of one running deployment's log (in a separate process, so
 * the server's memory is its own): every line in order to each, line latency from
 * the line's timestamp to its arrival, and the server process's RSS; against a bare
 * `ws` server broadcasting the same messages at the same pace.
 */
export async function benchViewers(env: BenchEnv): Promise<BenchSection> {
  const base = await baseline();

  // A deploy that waits in `up --wait` keeps the log open while the viewers follow it.
  const name = 'viewers';
  const compose = `services:\n  worker:\n    image: ${env.images.sleeper}\n    healthcheck:\n      test: ["CMD", "/bin/false"]\n      interval: 1s\n      start_period: 600s\n`;
  const created = await env.api('POST', '/api/v1/stacks', {
    name,
    compose,
    docker_registry: env.registry.host,
    docker_username: env.registry.username,
    docker_password: env.registry.password,
  });
  if (created.status !== 201) throw new Error(`cannot create ${name}: ${JSON.stringify(created)}`);
  const id = (await env.api('POST', `/api/v1/stacks/${name}/deploy`)).json.deployment.id as string;
  const deployer = env.container.services.deployer;
  const deadline = Date.now() + 60_000;
  while (!deployer.getDeployment(id).log.some((l) => / up -d /.test(l.text))) {
    if (Date.now() > deadline) throw new Error('the viewers deploy did not reach compose up');
    await sleep(200);
  }
  await sleep(500);
  const before = deployer.getDeployment(id).log.length;

  const rssIdle = mib(process.memoryUsage().rss);
  const viewers = startViewers(
    `${env.base.replace('http', 'ws')}/api/v1/deployments/${id}/logs/ws?token=${env.apiKey}`,
    VIEWERS,
  );
  await viewers.ready;
  const rssConnected = mib(process.memoryUsage().rss);
  let rssPeak = rssConnected;
  // The lines enter where compose output enters: the deployment's log bus.
  await pace((seq) => {
    deployer.logs.append(id, 'stdout', text(seq), new Date().toISOString());
    if (seq % 20 === 0) rssPeak = Math.max(rssPeak, mib(process.memoryUsage().rss));
  });
  const total = deployer.getDeployment(id).log.length;
  await env.api('POST', `/api/v1/deployments/${id}/cancel`);
  const sd = await viewers.result;
  await deployer.waitFor(id);
  await cleanupProject(`${env.prefix}-${name}`);

  // Lines 1..before were replayed on connect; the benchmark's lines were followed live.
  const complete = sd.viewers.filter(
    (v) => v.first === 1 && v.inOrder && v.n >= total && v.end === 'canceled',
  ).length;
  const baseComplete = base.viewers.filter(
    (v) => v.first === 1 && v.inOrder && v.n === LINES,
  ).length;
  if (complete !== VIEWERS) {
    throw new Error(`only ${complete} of ${VIEWERS} viewers got every line in order and the end`);
  }
  const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return {
    title: 'WebSocket viewers of one deployment (issue: hardening)',
    body: [
      `${VIEWERS} viewers (the \`ws\` package, in a separate process) of one running deployment's \`/logs/ws\`; ${LINES} lines, one every ${LINE_EVERY_MS} ms, enter the deployment's log bus where compose output enters it, after the ${before} lines of the real deploy so far (replayed on connect). Latency: the line's \`ts\` to its arrival at the viewer, live lines only. Baseline: a bare \`ws\` server in the bench process broadcasting the same messages at the same pace to the same viewers process.`,
      '',
      row(['what', 'baseline (bare ws broadcast)', 'simpledeploy `/logs/ws`', 'ratio']),
      row(['---', '---', '---', '---']),
      row([
        'viewers with every line in order + end',
        `${baseComplete} / ${VIEWERS}`,
        `**${complete} / ${VIEWERS}**`,
        '',
      ]),
      row([
        'p50 line latency',
        `${fmt(base.latency.p50, 0)} ms (${base.latency.n} samples)`,
        `${fmt(sd.latency.p50, 0)} ms (${sd.latency.n} samples)`,
        `**${fmt(sd.latency.p50 / Math.max(1, base.latency.p50), 2)}×**`,
      ]),
      row([
        'p99 line latency',
        `${fmt(base.latency.p99, 0)} ms`,
        `${fmt(sd.latency.p99, 0)} ms`,
        `**${fmt(sd.latency.p99 / Math.max(1, base.latency.p99), 2)}×**`,
      ]),
      '',
      `Server RSS (the bench process, which holds the in-process server; the viewers are elsewhere): ${fmt(rssIdle, 0)} MiB before the viewers, ${fmt(rssConnected, 0)} MiB with ${VIEWERS} connected (${fmt(((rssConnected - rssIdle) * 1024) / VIEWERS, 0)} KiB per viewer), peak ${fmt(rssPeak, 0)} MiB while the lines were sent. Timestamps have millisecond resolution, so latencies under 1 ms read as 0; ratios divide by at least 1 ms.`,
    ].join('\n'),
  };
}
