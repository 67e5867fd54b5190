import { execFileSync } from 'node:child_process';
import { cleanupProject } from '@simpledeploy/testing';
import type { BenchEnv, BenchSection } from './env';

const ROUNDS = Number(process.env.BENCH_UPDATE_ROUNDS ?? 3);

/**
 * A client on the project network asks the web service by name every 50 ms and writes
 * one line per answer; its container log is the record of what a client saw.
 */
const PROBE =
  'while :; do if timeout 2 wget -q -O /dev/null http://web/; then echo ok; else echo FAIL; fi; sleep 0.05; done';

const composeFile = (env: BenchEnv, image: string) =>
  `services:\n  web:\n    image: ${image}\n  probe:\n    image: ${env.images.sleeper}\n    command: ["/bin/sh", "-c", "${PROBE}"]\n`;

function probeLines(project: string): string[] {
  const id = execFileSync(
    'docker',
    [
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--filter',
      'label=com.docker.compose.service=probe',
    ],
    { encoding: 'utf8' },
  ).trim();
  return execFileSync('docker', ['logs', id], { encoding: 'utf8' }).split('\n').filter(Boolean);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Requests failed and answered while one update of `web` (v1 → v2) runs, by update order. */
async function measure(env: BenchEnv, order: 'stop-first' | 'start-first', round: number) {
  const name = `zd-${order}-${round}`;
  const project = `${env.prefix}-${name}`;
  const creds = {
    docker_registry: env.registry.host,
    docker_username: env.registry.username,
    docker_password: env.registry.password,
  };
  try {
    const created = await env.api('POST', '/api/v1/stacks', {
      name,
      compose: composeFile(env, env.images.webV1),
      update_order: order,
      ...creds,
    });
    if (created.status !== 201) throw new Error(`bench: ${JSON.stringify(created.json)}`);
    const first = await env.api('POST', `/api/v1/stacks/${name}/deploy?wait=true`);
    if (first.json?.deployment?.status !== 'succeeded')
      throw new Error(`bench: ${JSON.stringify(first.json)}`);
    await sleep(1500);
    const before = probeLines(project).length;
    await env.api('PATCH', `/api/v1/stacks/${name}`, {
      compose: composeFile(env, env.images.webV2),
    });
    const t = performance.now();
    const update = await env.api('POST', `/api/v1/stacks/${name}/deploy?wait=true`);
    const took = performance.now() - t;
    if (update.json?.deployment?.status !== 'succeeded')
      throw new Error(`bench: ${JSON.stringify(update.json)}`);
    await sleep(1500);
    const during = probeLines(project).slice(before);
    return { failed: during.filter((l) => l === 'FAIL').length, total: during.length, took };
  } finally {
    await env.api('DELETE', `/api/v1/stacks/${name}`);
    await cleanupProject(project);
  }
}

/**
 * The gap a client sees while a web service is updated, with compose's own stop-first
 * recreate (the baseline) and with `update_order: "start-first"`, in the same run.
 */
export async function benchZeroDowntime(env: BenchEnv): Promise<BenchSection> {
  const rows: string[] = [];
  const sum = { 'stop-first': { failed: 0, total: 0 }, 'start-first': { failed: 0, total: 0 } };
  for (let i = 0; i < ROUNDS; i++) {
    for (const order of ['stop-first', 'start-first'] as const) {
      const r = await measure(env, order, i);
      sum[order].failed += r.failed;
      sum[order].total += r.total;
      rows.push(
        `| ${i + 1} | ${order} | ${r.failed} of ${r.total} | ${(r.took / 1000).toFixed(1)} s |`,
      );
    }
  }
  const rate = (o: keyof typeof sum) => sum[o].failed / Math.max(1, sum[o].total);
  const base = rate('stop-first');
  const ratioText =
    base === 0 ? 'n/a (the baseline failed none)' : `${(rate('start-first') / base).toFixed(2)}×`;
  return {
    title: 'Requests failed during an update: stop-first vs start-first (issue: zero-downtime)',
    body: [
      `A client container on the project network asks \`http://web/\` every 50 ms (busybox wget under a 2 s timeout) while the web service is updated from v1 to v2 through the API (\`?wait=true\`), ${ROUNDS} rounds per order, interleaved. Stop-first is compose's own recreate, the baseline; start-first starts the new container beside the old one and stops the old one once the new one is healthy.`,
      '',
      '| round | update_order | requests failed during the update | deploy time |',
      '|---|---|---|---|',
      ...rows,
      '',
      `Failed share: stop-first ${(base * 100).toFixed(1)} % (${sum['stop-first'].failed} of ${sum['stop-first'].total}), start-first ${(rate('start-first') * 100).toFixed(1)} % (${sum['start-first'].failed} of ${sum['start-first'].total}); start-first against stop-first: **${ratioText}**.`,
    ].join('\n'),
  };
}
