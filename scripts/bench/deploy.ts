import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanupProject, composeOk, writeDockerConfig } from '@simpledeploy/testing';
import { type BenchEnv, type BenchSection, ms, ratio, stats } from './env';
import { type BenchTarget, holds } from './targets';

const ROUNDS = Number(process.env.BENCH_DEPLOY_ROUNDS ?? 8);
const NOOP_ROUNDS = Number(process.env.BENCH_NOOP_ROUNDS ?? 10);

const composeFile = (env: BenchEnv) =>
  `services:\n  web:\n    image: ${env.images.webV1}\n  worker:\n    image: ${env.images.sleeper}\n`;

/**
 * A full deploy through simpledeploy's API against raw `docker compose pull` +
 * `up -d --wait` of the same file, and a no-op redeploy against a raw no-op `up -d`,
 * interleaved in one run so both see the same machine.
 */
export async function benchDeploy(env: BenchEnv): Promise<BenchSection> {
  const dockerConfig = mkdtempSync(join(tmpdir(), 'sd-bench-docker-'));
  await writeDockerConfig(dockerConfig, {
    [env.registry.host]: { username: env.registry.username, password: env.registry.password },
  });
  const rawDir = mkdtempSync(join(tmpdir(), 'sd-bench-raw-'));
  const file = join(rawDir, 'compose.yaml');
  writeFileSync(file, composeFile(env));
  const rawProject = `${env.prefix}-raw`;
  const raw = (args: string[]) =>
    composeOk(['-p', rawProject, '-f', file, ...args], {
      cwd: rawDir,
      env: { DOCKER_CONFIG: dockerConfig },
    });

  const rawTimes: number[] = [];
  const sdTimes: number[] = [];
  try {
    // Warm-up: images pulled once into the engine, so every round measures the same work.
    await raw(['pull']);
    const rawRound = async () => {
      const t = performance.now();
      await raw(['pull']);
      await raw(['up', '-d', '--wait']);
      rawTimes.push(performance.now() - t);
      await raw(['down', '--remove-orphans']);
    };
    const sdRound = async (i: number) => {
      const name = `d${i}`;
      await env.api('POST', '/api/v1/stacks', {
        name,
        compose: composeFile(env),
        docker_registry: env.registry.host,
        docker_username: env.registry.username,
        docker_password: env.registry.password,
      });
      const t = performance.now();
      const res = await env.api('POST', `/api/v1/stacks/${name}/deploy?wait=true`);
      sdTimes.push(performance.now() - t);
      if (res.json?.deployment?.status !== 'succeeded') {
        throw new Error(`bench deploy failed: ${JSON.stringify(res.json)}`);
      }
      if (i < ROUNDS - 1) await env.api('DELETE', `/api/v1/stacks/${name}`);
    };
    for (let i = 0; i < ROUNDS; i++) {
      // Alternate who goes first so a drift in machine load hits both sides alike.
      if (i % 2 === 0) {
        await rawRound();
        await sdRound(i);
      } else {
        await sdRound(i);
        await rawRound();
      }
    }

    // No-op: the last stack is running; so is a raw project of the same file.
    await raw(['up', '-d', '--wait']);
    const rawNoop: number[] = [];
    const sdNoop: number[] = [];
    let noopLog: string[] = [];
    const last = `d${ROUNDS - 1}`;
    for (let i = 0; i < NOOP_ROUNDS; i++) {
      let t = performance.now();
      await raw(['up', '-d']);
      rawNoop.push(performance.now() - t);
      t = performance.now();
      const res = await env.api('POST', `/api/v1/stacks/${last}/deploy?wait=true`);
      sdNoop.push(performance.now() - t);
      if (res.json?.deployment?.status !== 'succeeded')
        throw new Error('bench no-op deploy failed');
      if (i === NOOP_ROUNDS - 1) {
        const dep = await env.api('GET', `/api/v1/deployments/${res.json.deployment.id}`);
        noopLog = ((dep.json?.log ?? dep.json?.deployment?.log ?? []) as { text: string }[])
          .map((l) => l.text)
          .filter((t) => t.startsWith('$ '));
      }
    }
    await env.api('DELETE', `/api/v1/stacks/${last}`);

    const r = stats(rawTimes);
    const s = stats(sdTimes);
    const rn = stats(rawNoop);
    const sn = stats(sdNoop);
    console.log(
      `deploy: raw ${ms(r.median)} vs simpledeploy ${ms(s.median)} (${ratio(s.median, r.median)})`,
    );
    console.log(
      `no-op: raw ${ms(rn.median)} vs simpledeploy ${ms(sn.median)} (${ratio(sn.median, rn.median)})`,
    );
    const targets: BenchTarget[] = [
      {
        what: 'full deploy vs raw `docker compose pull` + `up -d --wait` (medians; the deployer issue)',
        ratio: s.median / r.median,
        kind: 'max',
        bound: 1.1,
      },
      {
        what: 'no-op redeploy vs raw no-op `docker compose up -d` (medians)',
        ratio: sn.median / rn.median,
        kind: 'max',
        bound: 1.5,
      },
    ];
    const verdict = (t: BenchTarget | undefined) => (t && holds(t) ? 'holds' : '**does not hold**');
    return {
      title: 'Deploy overhead (issue: the deployer)',
      targets,
      body: [
        `A two-service stack (busybox web with a health check + a sleeper) from the private registry at 127.0.0.1, ${ROUNDS} rounds, interleaved; no-op ${NOOP_ROUNDS} rounds.`,
        '',
        '| what | baseline (raw docker compose) | simpledeploy (HTTP API, `?wait=true`) | ratio (median) | target |',
        '|---|---|---|---|---|',
        `| full deploy: \`pull\` + \`up -d --wait\` | median ${ms(r.median)}, p90 ${ms(r.p90)} | median ${ms(s.median)}, p90 ${ms(s.p90)} | **${ratio(s.median, r.median)}** | ≤ 1.10×: ${verdict(targets[0])} |`,
        `| no-op redeploy vs raw no-op \`up -d\` | median ${ms(rn.median)}, p90 ${ms(rn.p90)} | median ${ms(sn.median)}, p90 ${ms(sn.p90)} | **${ratio(sn.median, rn.median)}** | ≤ 1.5× (issue 14): ${verdict(targets[1])} |`,
        '',
        "simpledeploy's full deploy adds the host policy (`config --format json` on a fresh copy of the version, then on the deploy dir with the running containers' read-write mounts), version bookkeeping, file writes and a fresh DOCKER_CONFIG. Its no-op redeploy (content equal to the running version; `\"force\": true` pulls) writes the files again, lists the project's containers once (`docker ps -a`: the live mounts for the gate, an interrupted recreate, whether all runs healthy), keeps the gate's verdict when the deploy dir answers every question of the last judgement the same (docs/security.md), runs `up -d --remove-orphans`, and asks nothing more when `up` reported every container `Running` and all were healthy before.",
        '',
        `Compose commands of the last no-op redeploy, from its log: ${noopLog.map((l) => `\`${l.replace(/ -f \S+| --env-file \S+/g, '')}\``).join(', ') || '(none logged)'}.`,
      ].join('\n'),
    };
  } finally {
    await cleanupProject(rawProject);
    for (let i = 0; i < ROUNDS; i++) await cleanupProject(`${env.prefix}-d${i}`);
    rmSync(rawDir, { recursive: true, force: true });
    rmSync(dockerConfig, { recursive: true, force: true });
  }
}
