import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecaRunner, deployAndWait } from '@simpledeploy/deployer';
import { startTestHosts, type TestHost, writeDockerConfig } from '@simpledeploy/testing';
import { type BenchEnv, type BenchSection, ratio } from './env';

const ROUNDS = Number(process.env.BENCH_SWARM_ROUNDS ?? 3);

const stackFile = (image: string) =>
  JSON.stringify({
    services: {
      web: {
        image,
        deploy: {
          replicas: 2,
          placement: { max_replicas_per_node: 1 },
          update_config: { monitor: '3s' },
        },
      },
    },
  });
const composeYaml = (image: string) =>
  `services:\n  web:\n    image: ${image}\n    deploy:\n      replicas: 2\n      placement:\n        max_replicas_per_node: 1\n      update_config:\n        monitor: 3s\n`;

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? 0;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/**
 * Deploy overhead on Swarm: an update (v1 → v2, two replicas on two nodes) through the API
 * of a stack with engine `swarm`, against the same update done by hand in the same run:
 * `docker stack deploy` of the same file with the same flags, followed by the same wait
 * for every service's update and replicas (the deployer's own wait, given the raw file).
 */
export async function benchSwarm(env: BenchEnv): Promise<BenchSection> {
  const set = await startTestHosts({
    count: 2,
    swarm: true,
    registries: [env.registry],
    prefix: 'sdbench-swarm',
  });
  const manager = set.swarm?.manager as TestHost;
  const scratch = mkdtempSync(join(tmpdir(), 'sd-bench-swarm-'));
  const runner = createExecaRunner();
  const hostRegistry = set.registries[0];
  if (!hostRegistry) throw new Error('bench: no registry relayed to the test hosts');
  const v1 = set.hostImageRef(env.images.webV1);
  const v2 = set.hostImageRef(env.images.webV2);
  const rawEnv = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/root',
    DOCKER_HOST: manager.dockerHostTcp,
    DOCKER_TLS_VERIFY: '1',
    DOCKER_CERT_PATH: manager.tlsDir,
    DOCKER_CONFIG: await writeDockerConfig(join(scratch, 'config'), {
      [hostRegistry.host]: { username: env.registry.username, password: env.registry.password },
    }),
  };
  const stacks: string[] = [];
  try {
    const host = await env.api('POST', '/api/v1/hosts', {
      name: 'bench-swarm',
      docker_host: manager.dockerHostTcp,
      tls_ca: manager.tls.ca,
      tls_cert: manager.tls.cert,
      tls_key: manager.tls.key,
      swarm: true,
    });
    if (host.status !== 201) throw new Error(`bench: ${JSON.stringify(host.json)}`);
    for (let i = 0; i < 120; i++) {
      const h = await env.api('GET', '/api/v1/hosts/bench-swarm');
      if (h.json?.host?.swarm === 'manager') break;
      await new Promise((r) => setTimeout(r, 500));
    }

    /** The baseline: `docker stack deploy` by hand, then the same convergence wait. */
    const raw = async (stack: string, image: string) => {
      const file = join(scratch, `${stack}.json`);
      writeFileSync(file, stackFile(image));
      const t = performance.now();
      const res = await deployAndWait({
        runner,
        docker: 'docker',
        env: rawEnv,
        signal: new AbortController().signal,
        file,
        stack,
        log: () => {},
        sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
        describeFailure: (e) => e.trim(),
      });
      if (!res.ok) throw new Error(`bench: raw docker stack deploy failed: ${res.error}`);
      return performance.now() - t;
    };
    const viaApi = async (name: string, image: string) => {
      await env.api('PATCH', `/api/v1/stacks/${name}`, { compose: composeYaml(image) });
      const t = performance.now();
      const res = await env.api('POST', `/api/v1/stacks/${name}/deploy?wait=true`);
      const took = performance.now() - t;
      if (res.json?.deployment?.status !== 'succeeded')
        throw new Error(`bench: ${JSON.stringify(res.json)}`);
      return took;
    };

    const rows: string[] = [];
    const timesApi: number[] = [];
    const timesRaw: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const name = `swarm-${i}`;
      const rawStack = `${env.prefix}-rawswarm-${i}`;
      stacks.push(`${env.prefix}-${name}`, rawStack);
      const created = await env.api('POST', '/api/v1/stacks', {
        name,
        compose: composeYaml(v1),
        host: 'bench-swarm',
        engine: 'swarm',
        docker_registry: hostRegistry.host,
        docker_username: env.registry.username,
        docker_password: env.registry.password,
      });
      if (created.status !== 201) throw new Error(`bench: ${JSON.stringify(created.json)}`);
      const first = await env.api('POST', `/api/v1/stacks/${name}/deploy?wait=true`);
      if (first.json?.deployment?.status !== 'succeeded')
        throw new Error(`bench: ${JSON.stringify(first.json)}`);
      await raw(rawStack, v1);
      // Interleaved, the order alternating per round, so drift in the machine's load hits both.
      const order = i % 2 ? (['raw', 'api'] as const) : (['api', 'raw'] as const);
      const took: Record<'api' | 'raw', number> = { api: 0, raw: 0 };
      for (const which of order)
        took[which] = which === 'api' ? await viaApi(name, v2) : await raw(rawStack, v2);
      timesApi.push(took.api);
      timesRaw.push(took.raw);
      rows.push(
        `| ${i + 1} | ${secs(took.raw)} | ${secs(took.api)} | ${ratio(took.api, took.raw)} |`,
      );
    }
    return {
      title: 'Deploy overhead on Swarm: simpledeploy vs raw docker stack deploy (issue 15)',
      body: [
        `A two-node Swarm of test hosts (each its own dockerd; the manager reached over TCP+TLS). One update of a two-replica service (v1 → v2, one replica per node, \`update_config.monitor: 3s\`) per round, ${ROUNDS} rounds, the order alternating. Baseline: \`docker stack deploy --with-registry-auth --prune --detach=false\` of the same file by hand, then the same wait for every service's UpdateStatus and replicas. simpledeploy: \`POST /deploy?wait=true\` of a stack with \`engine: "swarm"\` (render with compose, checks, host policy, deploy, wait, digests recorded).`,
        '',
        '| round | raw stack deploy + wait | simpledeploy | ratio |',
        '|---|---|---|---|',
        ...rows,
        '',
        `Median: raw ${secs(median(timesRaw))}, simpledeploy ${secs(median(timesApi))}: **${ratio(median(timesApi), median(timesRaw))}**.`,
      ].join('\n'),
    };
  } finally {
    for (const s of stacks) await manager.docker(['stack', 'rm', s]).catch(() => undefined);
    for (let i = 0; i < ROUNDS; i++)
      await env.api('DELETE', `/api/v1/stacks/swarm-${i}`).catch(() => undefined);
    await env.api('DELETE', '/api/v1/hosts/bench-swarm').catch(() => undefined);
    await set.stop();
    rmSync(scratch, { recursive: true, force: true });
  }
}
