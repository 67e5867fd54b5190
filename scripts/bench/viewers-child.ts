import WebSocket from 'ws';

/**
 * The WebSocket viewers of the viewers benchmark, in their own process so the server's
 * RSS is measured without them. argv: url, count. Prints `{"ready":n}` once every
 * viewer is connected, then one JSON result line once every socket has closed.
 */
const [url = '', countArg = '0'] = process.argv.slice(2);
const count = Number(countArg);

interface Viewer {
  seqs: number[];
  end?: string;
  closeCode?: number;
}

const latencies: number[] = [];
const viewers: Viewer[] = [];
let open = 0;
/** When the last viewer connected: lines stamped earlier were replayed, not followed live. */
let readyAt = Number.POSITIVE_INFINITY;

const sockets = Array.from({ length: count }, () => {
  const v: Viewer = { seqs: [] };
  viewers.push(v);
  const ws = new WebSocket(url);
  ws.on('open', () => {
    open++;
    if (open === count) readyAt = Date.now();
    if (open === count) process.stdout.write(`${JSON.stringify({ ready: open })}\n`);
  });
  ws.on('message', (data) => {
    const received = Date.now();
    const m = JSON.parse(String(data)) as { type: string; seq: number; ts: string; status: string };
    if (m.type === 'line') {
      v.seqs.push(m.seq);
      const ts = Date.parse(m.ts);
      if (ts >= readyAt) latencies.push(received - ts);
    } else if (m.type === 'end') v.end = m.status;
  });
  return new Promise<void>((resolve) => {
    ws.on('close', (code) => {
      v.closeCode = code;
      resolve();
    });
    ws.on('error', () => resolve());
  });
});

// Bounded: give up after two minutes whatever happens.
const guard = setTimeout(() => {
  process.stdout.write(`${JSON.stringify({ error: 'viewers did not finish within 120 s' })}\n`);
  process.exit(1);
}, 120_000);

await Promise.all(sockets);
clearTimeout(guard);
// Summaries only: a pipe may not flush megabytes before the process exits.
const sorted = latencies.sort((a, b) => a - b);
const pct = (p: number) =>
  sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
const result = {
  viewers: viewers.map((v) => ({
    n: v.seqs.length,
    first: v.seqs[0],
    last: v.seqs.at(-1),
    inOrder: v.seqs.every((s, i) => i === 0 || s === (v.seqs[i - 1] ?? 0) + 1),
    end: v.end,
    code: v.closeCode,
  })),
  latency: { n: sorted.length, p50: pct(0.5), p99: pct(0.99), max: sorted.at(-1) },
};
process.stdout.write(`${JSON.stringify(result)}\n`, () => process.exit(0));
