import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import { getFreePort } from '@simpledeploy/testing';
import { Hono } from 'hono';

/** Nearest-rank percentile of an unsorted sample. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil(p * s.length) - 1))] ?? Number.NaN;
}

export const fmt = (x: number, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));

export interface LoadResult {
  /** Status of each request, by index. */
  statuses: number[];
  /** Latency of each request in ms, by index. */
  latencies: number[];
  wallMs: number;
  /** Requests per second over the whole loop. */
  rps: number;
  /** Bytes of response bodies, summed. */
  bytes: number;
  /** Requests sent again because a kept-alive connection was closed under them. */
  retried: number;
}

// A kept-alive connection the server closes just as the client reuses it; the request did not reach a handler.
const isStaleConnection = (error: unknown) => {
  const code = (error as { cause?: { code?: string } })?.cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
};

/**
 * The client loop of every HTTP benchmark: `count` requests, at most `concurrency` in
 * flight, each a fetch over keep-alive connections; stops after `maxMs` even if not
 * every request was sent. Bounded both ways.
 */
export async function loadLoop(
  count: number,
  concurrency: number,
  request: (i: number) => Promise<Response>,
  maxMs = 60_000,
): Promise<LoadResult> {
  const statuses: number[] = [];
  const latencies: number[] = [];
  let bytes = 0;
  let retried = 0;
  let next = 0;
  const deadline = performance.now() + maxMs;
  const worker = async () => {
    while (next < count && performance.now() < deadline) {
      const i = next++;
      const t = performance.now();
      const res = await request(i).catch((error: unknown) => {
        if (!isStaleConnection(error)) throw error;
        retried++;
        return request(i);
      });
      bytes += (await res.arrayBuffer()).byteLength;
      latencies[i] = performance.now() - t;
      statuses[i] = res.status;
    }
  };
  const t = performance.now();
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  const wallMs = performance.now() - t;
  const done = latencies.filter((x) => x !== undefined);
  return {
    statuses: statuses.filter((x) => x !== undefined),
    latencies: done,
    wallMs,
    rps: (done.length / wallMs) * 1000,
    bytes,
    retried,
  };
}

/**
 * The baseline: a bare Hono hello-world on @hono/node-server in this process, on
 * 127.0.0.1, with `GET /` and a `POST /` that reads the body and answers 202 JSON.
 */
export async function startHelloWorld(): Promise<{ base: string; close(): Promise<void> }> {
  const app = new Hono()
    .get('/', (c) => c.text('Hello Hono!'))
    .post('/', async (c) => {
      await c.req.arrayBuffer();
      return c.json({ ok: true }, 202);
    });
  const port = await getFreePort();
  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, () =>
      resolve(s as Server),
    ) as Server;
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${bound}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Resident set size of a process in MiB, from /proc/<pid>/status (VmRSS). */
export function rssMiB(pid: number): number {
  const status = readProc(`/proc/${pid}/status`);
  const kb = Number(/VmRSS:\s+(\d+)\s+kB/.exec(status)?.[1] ?? Number.NaN);
  return kb / 1024;
}

/** CPU time (user + system) a process has used, in seconds, from /proc/<pid>/stat. */
export function cpuSeconds(pid: number): number {
  const stat = readProc(`/proc/${pid}/stat`);
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of stat, in clock ticks (100 per second on Linux).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const readProc = (path: string) => readFileSync(path, 'utf8');
