import { createHmac, randomUUID } from 'node:crypto';
import { cleanupProject } from '@simpledeploy/testing';
import type { BenchEnv, BenchSection } from './env';
import { fmt, loadLoop, pct, startHelloWorld } from './load-kit';

const WEBHOOKS = Number(process.env.BENCH_WEBHOOKS ?? 1000);
const WEBHOOK_CONCURRENCY = 50;
const LIST_STACKS = Number(process.env.BENCH_LIST_STACKS ?? 500);
const LIST_REQUESTS = Number(process.env.BENCH_LIST_REQUESTS ?? 1000);
const LIST_CONCURRENCY = 10;

const ok = (s: number) => s >= 200 && s < 300;
const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;

/**
 * 1000 GitHub-signed push webhooks to one stack, 50 in flight, against the same loop
 * posting the same bodies to a bare Hono hello-world. The stack's first deploy takes
 * about 8 s (its health check passes late), so the whole burst lands while it runs:
 * at most one more deployment may be queued, every other push joins it.
 */
export async function benchWebhooks(env: BenchEnv): Promise<BenchSection> {
  const secret = `bench-webhook-${randomUUID()}`;
  const name = 'burst';
  const compose = `services:\n  worker:\n    image: ${env.images.sleeper}\n    command: ["/bin/sh", "-c", "sleep 8; touch /tmp/ready; exec /bin/sleeper"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/tmp/ready"]\n      interval: 1s\n      start_period: 60s\n`;
  const created = await env.api('POST', '/api/v1/stacks', {
    name,
    compose,
    webhook_secret: secret,
    docker_registry: env.registry.host,
    docker_username: env.registry.username,
    docker_password: env.registry.password,
  });
  if (created.status !== 201) throw new Error(`cannot create ${name}: ${JSON.stringify(created)}`);
  const bodies = Array.from({ length: WEBHOOKS }, (_, i) =>
    JSON.stringify({
      ref: 'refs/heads/main',
      after: i.toString(16).padStart(40, '0'),
      commits: [{ id: i.toString(16).padStart(40, '0'), modified: ['compose.yaml'] }],
    }),
  );
  const signed = (i: number, url: string) => {
    const body = bodies[i] ?? '';
    return fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': randomUUID(),
        'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    });
  };

  const hello = await startHelloWorld();
  let base: Awaited<ReturnType<typeof loadLoop>>;
  try {
    // Warm both ends (connections, JIT) with a few requests that are not measured.
    await loadLoop(100, WEBHOOK_CONCURRENCY, (i) => signed(i, hello.base));
    base = await loadLoop(WEBHOOKS, WEBHOOK_CONCURRENCY, (i) => signed(i, hello.base));
  } finally {
    await hello.close();
  }
  const coalesced: boolean[] = [];
  const sd = await loadLoop(WEBHOOKS, WEBHOOK_CONCURRENCY, async (i) => {
    const res = await signed(i, `${env.base}/api/v1/stacks/${name}/webhook`);
    const json = (await res.clone().json()) as { coalesced?: boolean };
    coalesced.push(!!json.coalesced);
    return res;
  });

  // Every deployment of the burst runs to its end (bounded), then they are counted.
  const deadline = Date.now() + 120_000;
  let deployments: { status: string; trigger: string }[] = [];
  for (;;) {
    deployments = (await env.api('GET', `/api/v1/stacks/${name}/deployments`)).json.deployments;
    if (deployments.every((d) => !['queued', 'running'].includes(d.status))) break;
    if (Date.now() > deadline) throw new Error('the burst deployments did not end within 120 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  await cleanupProject(`${env.prefix}-${name}`);

  const answered2xx = sd.statuses.filter(ok).length;
  const statusCounts = Object.entries(
    sd.statuses.reduce<Record<number, number>>((acc, s) => {
      acc[s] = (acc[s] ?? 0) + 1;
      return acc;
    }, {}),
  )
    .map(([s, n]) => `${n}× ${s}`)
    .join(', ');
  if (answered2xx !== WEBHOOKS)
    throw new Error(`webhook burst: not every request was 2xx (${statusCounts})`);
  if (deployments.length > 2)
    throw new Error(`webhook burst ran ${deployments.length} deployments`);

  const p = (r: typeof sd, q: number) => pct(r.latencies, q);
  return {
    title: 'Signed webhook burst (issue: hardening)',
    body: [
      `${WEBHOOKS} GitHub push webhooks (\`X-Hub-Signature-256\` with the stack's webhook_secret, a new \`X-GitHub-Delivery\` each) to one stack, ${WEBHOOK_CONCURRENCY} in flight, fetch over keep-alive; the baseline is the same loop posting the same bodies to a bare Hono hello-world (\`POST /\` → 202) in the bench process.`,
      '',
      row(['what', 'baseline (hello-world)', 'simpledeploy webhook', 'ratio']),
      row(['---', '---', '---', '---']),
      row([
        'p50 latency',
        `${fmt(p(base, 0.5))} ms`,
        `${fmt(p(sd, 0.5))} ms`,
        `**${fmt(p(sd, 0.5) / p(base, 0.5), 2)}×**`,
      ]),
      row([
        'p99 latency',
        `${fmt(p(base, 0.99))} ms`,
        `${fmt(p(sd, 0.99))} ms`,
        `**${fmt(p(sd, 0.99) / p(base, 0.99), 2)}×**`,
      ]),
      row([
        'throughput',
        `${fmt(base.rps, 0)} req/s`,
        `${fmt(sd.rps, 0)} req/s`,
        `${fmt(sd.rps / base.rps, 2)}×`,
      ]),
      '',
      `Answers: ${statusCounts}; ${sd.retried} requests sent again after a kept-alive connection was reset (baseline: ${base.retried}) (every one 2xx; the rate limiter never refuses a valid signature). ${coalesced.filter(Boolean).length} joined a queued deployment (\`"coalesced": true\`). Deployments run for the whole burst: **${deployments.length}** (${deployments.map((d) => `${d.trigger} ${d.status}`).join(', ')}); target ≤ 2.`,
    ].join('\n'),
  };
}

/**
 * `GET /api/v1/stacks` with 500 stacks (each with an encrypted registry password), 10
 * in flight, against the same loop on a bare Hono hello-world `GET /`.
 */
export async function benchStackList(env: BenchEnv): Promise<BenchSection> {
  const compose = `services:\n  worker:\n    image: ${env.images.sleeper}\n`;
  const existing = (await env.api('GET', '/api/v1/stacks')).json.stacks.length as number;
  for (let i = 0; i < LIST_STACKS - existing; i++) {
    const res = await env.api('POST', '/api/v1/stacks', {
      name: `list-${i}`,
      compose,
      docker_registry: env.registry.host,
      docker_username: env.registry.username,
      docker_password: env.registry.password,
    });
    if (res.status !== 201)
      throw new Error(`cannot create stack list-${i}: ${JSON.stringify(res.json)}`);
  }
  const headers = { 'X-API-KEY': env.apiKey };
  const list = (await env.api('GET', '/api/v1/stacks')).json.stacks.length as number;
  const hello = await startHelloWorld();
  let base: Awaited<ReturnType<typeof loadLoop>>;
  try {
    await loadLoop(200, LIST_CONCURRENCY, () => fetch(`${hello.base}/`));
    base = await loadLoop(
      LIST_REQUESTS * 5,
      LIST_CONCURRENCY,
      () => fetch(`${hello.base}/`),
      20_000,
    );
  } finally {
    await hello.close();
  }
  await loadLoop(20, LIST_CONCURRENCY, () => fetch(`${env.base}/api/v1/stacks`, { headers }));
  const sd = await loadLoop(
    LIST_REQUESTS,
    LIST_CONCURRENCY,
    () => fetch(`${env.base}/api/v1/stacks`, { headers }),
    30_000,
  );
  if (!sd.statuses.every(ok)) throw new Error('GET /api/v1/stacks answered a non-2xx under load');
  const kib = sd.bytes / sd.latencies.length / 1024;
  return {
    title: '`GET /api/v1/stacks` with 500 stacks (issue: hardening)',
    body: [
      `${list} stacks, ${LIST_CONCURRENCY} requests in flight, fetch over keep-alive, at most ${LIST_REQUESTS} requests or 30 s; the baseline is the same loop against a bare Hono hello-world \`GET /\` (12 bytes) in the bench process.`,
      '',
      row(['what', 'baseline (hello-world)', 'simpledeploy `GET /api/v1/stacks`', 'ratio']),
      row(['---', '---', '---', '---']),
      row([
        'throughput',
        `${fmt(base.rps, 0)} req/s (${base.latencies.length} requests)`,
        `${fmt(sd.rps, 0)} req/s (${sd.latencies.length} requests)`,
        `**${fmt(sd.rps / base.rps, 3)}×**`,
      ]),
      row([
        'p50 latency',
        `${fmt(pct(base.latencies, 0.5))} ms`,
        `${fmt(pct(sd.latencies, 0.5))} ms`,
        `${fmt(pct(sd.latencies, 0.5) / pct(base.latencies, 0.5), 1)}×`,
      ]),
      row([
        'p99 latency',
        `${fmt(pct(base.latencies, 0.99))} ms`,
        `${fmt(pct(sd.latencies, 0.99))} ms`,
        `${fmt(pct(sd.latencies, 0.99) / pct(base.latencies, 0.99), 1)}×`,
      ]),
      '',
      `${sd.retried} requests (baseline: ${base.retried}) were sent again after a kept-alive connection was reset under them (client and server share one event loop here). Each answer is ${fmt(kib, 0)} KiB of JSON (every stack with its status, last deployment and secrets reduced to \`has_…\` flags), against 12 bytes from the hello-world. The route reads every stack's latest deployment and open deployments in two queries, and redaction scans each text once however many secrets the server knows; what remains is building, redacting and serializing 500 stack objects per request.`,
    ].join('\n'),
  };
}
