import { createHmac, randomUUID } from 'node:crypto';
import { cleanupProject } from '@simpledeploy/testing';
import type { BenchEnv, BenchSection } from './env';
import { startBaseline, startServerProcess } from './processes';
import { type BenchTarget, targetTable } from './targets';
import { runWrk, type WrkRequest, type WrkResult } from './wrk';

const PUSHES = Number(process.env.BENCH_WEBHOOKS ?? 1000);
const CONNECTIONS = 50;
const ROUNDS = Number(process.env.BENCH_WEBHOOK_ROUNDS ?? 5);

const row = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
const ms = (x: number) => `${x.toFixed(1)} ms`;

/** `count` signed GitHub pushes to `path`, each with its own body, commit and delivery id. */
function signedPushes(path: string, secret: string, count: number, tag: string): WrkRequest[] {
  return Array.from({ length: count }, (_, i) => {
    const sha = `${tag}${i.toString(16)}`.padStart(40, '0').slice(-40);
    const body = JSON.stringify({
      ref: 'refs/heads/main',
      after: sha,
      commits: [{ id: sha, modified: ['compose.yaml'] }],
    });
    return {
      method: 'POST',
      path,
      headers: {
        'Content-Type': 'application/json',
        'X-GitHub-Event': 'push',
        'X-GitHub-Delivery': randomUUID(),
        'X-Hub-Signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      },
      body,
    };
  });
}

/**
 * A burst of 1000 signed pushes to one stack (issue 14): wrk (its own process, 50
 * connections) posts them to the bundled server in its own process, and the same bodies
 * to a bare Hono hello-world (`POST /` reads the body, answers 202) in a third; in turn,
 * 3 bursts each. The stack's deploy takes about 8 s (a late health check), so every burst
 * lands while one runs: at most one more may be queued, every other push joins it.
 */
export async function benchWebhookBurst(env: BenchEnv): Promise<BenchSection> {
  const server = await startServerProcess();
  const hello = await startBaseline({ hello: true });
  const secret = `bench-webhook-${randomUUID()}`;
  const name = 'burst';
  let created = false;
  try {
    const compose = `services:\n  worker:\n    image: ${env.images.sleeper}\n    command: ["/bin/sh", "-c", "sleep 8; touch /tmp/ready; exec /bin/sleeper"]\n    healthcheck:\n      test: ["CMD", "test", "-f", "/tmp/ready"]\n      interval: 1s\n      start_period: 60s\n`;
    const res = await server.api('POST', '/api/v1/stacks', {
      name,
      compose,
      webhook_secret: secret,
      docker_registry: env.registry.host,
      docker_username: env.registry.username,
      docker_password: env.registry.password,
    });
    if (res.status !== 201) throw new Error(`cannot create ${name}: ${JSON.stringify(res)}`);
    created = true;

    const base: WrkResult[] = [];
    const sd: WrkResult[] = [];
    let deployments: { status: string; trigger: string }[] = [];
    const burstsDeployments: number[] = [];
    // Round -1 warms both servers up and is not pooled: the JIT has not seen the webhook
    // path yet and the stack's first deploy creates its network and container. Its
    // figures are printed beside the others.
    let warmUp: { base: WrkResult; sd: WrkResult } | undefined;
    for (let round = -1; round < ROUNDS; round++) {
      // Delivery ids never repeat (the server would answer a repeat as a duplicate).
      const tag = round < 0 ? 'ef' : `${round}f`;
      const opts = {
        connections: CONNECTIONS,
        seconds: 60,
        maxResponses: PUSHES,
        countStatuses: true,
      };
      const baseBurst = await runWrk({
        ...opts,
        url: hello.base,
        requests: signedPushes('/', secret, PUSHES + CONNECTIONS, tag),
      });
      // New content each round: the burst's first push deploys it for real (about 8 s), as
      // in round one; an unchanged stack would redeploy as a no-op in a blink, and a burst
      // spanning several whole deployments is not the case measured.
      const patched = await server.api('PATCH', `/api/v1/stacks/${name}`, {
        compose: `${compose}    environment:\n      ROUND: "${round}"\n`,
      });
      if (patched.status !== 200)
        throw new Error(`cannot change ${name}: ${JSON.stringify(patched)}`);
      const before = (await server.api('GET', `/api/v1/stacks/${name}/deployments`)).json
        .deployments.length as number;
      const sdBurst = await runWrk({
        ...opts,
        url: server.base,
        requests: signedPushes(`/api/v1/stacks/${name}/webhook`, secret, PUSHES + CONNECTIONS, tag),
      });
      if (round < 0) warmUp = { base: baseBurst, sd: sdBurst };
      else {
        base.push(baseBurst);
        sd.push(sdBurst);
      }
      // The burst's deployments run to their end (bounded), then they are counted.
      const deadline = Date.now() + 120_000;
      for (;;) {
        deployments = (await server.api('GET', `/api/v1/stacks/${name}/deployments`)).json
          .deployments;
        if (deployments.every((d) => !['queued', 'running'].includes(d.status))) break;
        if (Date.now() > deadline)
          throw new Error('the burst deployments did not end within 120 s');
        await new Promise((r) => setTimeout(r, 500));
      }
      if (round >= 0) burstsDeployments.push(deployments.length - before);
    }
    const sum = (rs: WrkResult[], f: (r: WrkResult) => number) => rs.reduce((a, r) => a + f(r), 0);
    const rps = (rs: WrkResult[]) => sum(rs, (r) => r.requests) / sum(rs, (r) => r.seconds);
    const med = (rs: WrkResult[], f: (r: WrkResult) => number) =>
      rs.map(f).sort((a, b) => a - b)[Math.floor(rs.length / 2)] ?? Number.NaN;
    const statuses = sd.reduce<Record<string, number>>((acc, r) => {
      for (const [s, n] of Object.entries(r.statuses)) acc[s] = (acc[s] ?? 0) + n;
      return acc;
    }, {});
    const non2xx = Object.entries(statuses)
      .filter(([s]) => !s.startsWith('2'))
      .reduce((a, [, n]) => a + n, 0);
    const ratio = rps(sd) / rps(base);
    const maxDeployments = Math.max(...burstsDeployments);
    const targets: BenchTarget[] = [
      {
        what: `burst of ${PUSHES} signed pushes to one stack vs Hono hello-world (throughput)`,
        ratio,
        kind: 'min',
        bound: 0.5,
      },
      {
        what: 'deployments run for one burst',
        ratio: maxDeployments,
        kind: 'max',
        bound: 2,
        unit: '',
      },
    ];
    return {
      title: 'Signed webhook burst (issue 14)',
      targets,
      body: [
        `${ROUNDS} bursts (after one warm-up burst each, not pooled) of ${PUSHES} GitHub push webhooks (\`X-Hub-Signature-256\` with the stack's webhook_secret, a new body, commit and \`X-GitHub-Delivery\` each) to one stack of the bundled server (\`node apps/server/dist/main.js\`, its own process), sent by wrk (Debian's, one thread, ${CONNECTIONS} connections, stopped after ${PUSHES} answers) from another; the baseline is a bare Hono hello-world (\`POST /\` reads the body and answers 202) in a third process, sent the same requests, in turn with each burst.`,
        '',
        row(['what', 'baseline (hello-world)', 'simpledeploy webhook', 'ratio']),
        row(['---', '---', '---', '---']),
        row([
          'throughput (pooled)',
          `${rps(base).toFixed(0)} req/s`,
          `${rps(sd).toFixed(0)} req/s`,
          `**${ratio.toFixed(2)}×**`,
        ]),
        row([
          'p50 latency (median burst)',
          ms(med(base, (r) => r.latencyMs.p50)),
          ms(med(sd, (r) => r.latencyMs.p50)),
          `${(med(sd, (r) => r.latencyMs.p50) / med(base, (r) => r.latencyMs.p50)).toFixed(2)}×`,
        ]),
        row([
          'p99 latency (median burst)',
          ms(med(base, (r) => r.latencyMs.p99)),
          ms(med(sd, (r) => r.latencyMs.p99)),
          `${(med(sd, (r) => r.latencyMs.p99) / med(base, (r) => r.latencyMs.p99)).toFixed(2)}×`,
        ]),
        '',
        targetTable(targets),
        '',
        `Answers: ${Object.entries(statuses)
          .map(([s, n]) => `${n}× ${s}`)
          .join(
            ', ',
          )} (${non2xx} not 2xx; wrk may send up to ${CONNECTIONS} past ${PUSHES} before it stops). Deployments per burst: ${burstsDeployments.join(', ')} (the last burst's: ${deployments
          .slice(0, 2)
          .map((d) => `${d.trigger} ${d.status}`)
          .join(', ')}).`,
        ...(warmUp
          ? [
              '',
              `The warm-up burst (a server that has not run its webhook path yet, and the stack's first deploy): hello-world ${warmUp.base.rps.toFixed(0)} req/s, simpledeploy ${warmUp.sd.rps.toFixed(0)} req/s (${(warmUp.sd.rps / warmUp.base.rps).toFixed(2)}×).`,
            ]
          : []),
      ].join('\n'),
    };
  } finally {
    await hello.stop();
    await server.stop();
    if (created) await cleanupProject(`${server.projectPrefix}-${name}`);
  }
}
