import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getFreePort, startGitServer, uniqueProjectName } from '@simpledeploy/testing';
import type { BenchSection } from './env';
import { cpuSeconds, fmt, rssMiB } from './load-kit';

const STACKS = Number(process.env.BENCH_IDLE_STACKS ?? 100);
const INTERVAL_S = 10;
const BASELINE_S = Number(process.env.BENCH_IDLE_BASELINE_S ?? 15);
const MEASURE_S = Number(process.env.BENCH_IDLE_MEASURE_S ?? 30);

const serverDir = join(dirname(fileURLToPath(import.meta.url)), '../../apps/server');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** CPU share (percent of one core) and RSS samples of a process over `seconds`. */
async function observe(pid: number, seconds: number) {
  const rss: number[] = [];
  const cpu0 = cpuSeconds(pid);
  const t0 = performance.now();
  for (let i = 0; i < seconds; i++) {
    await sleep(1000);
    rss.push(rssMiB(pid));
  }
  const wall = (performance.now() - t0) / 1000;
  return {
    cpuPct: ((cpuSeconds(pid) - cpu0) / wall) * 100,
    rssMean: rss.reduce((a, b) => a + b, 0) / rss.length,
    rssMax: Math.max(...rss),
  };
}

/**
 * The bundled server (`node apps/server/dist/main.js`, as `pnpm start` runs it) idle,
 * then with 100 git stacks polling a local git server every 10 s: CPU and RSS of its
 * process from /proc, the idle server with no stacks as the baseline.
 */
export async function benchIdlePolling(): Promise<BenchSection> {
  execFileSync(join(serverDir, 'node_modules/.bin/tsup'), { cwd: serverDir, stdio: 'pipe' });
  const git = await startGitServer({
    username: 'bench',
    password: randomBytes(12).toString('hex'),
  });
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-bench-idle-'));
  const apiKey = `bench-idle-${randomBytes(8).toString('hex')}`;
  const port = await getFreePort();
  const child = spawn(process.execPath, [join(serverDir, 'dist/main.js')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOST: '127.0.0.1',
      PORT: String(port),
      SIMPLEDEPLOY_API_KEY: apiKey,
      SIMPLEDEPLOY_SECRET_KEY: 'bench-idle-secret-key-0123456789',
      SIMPLEDEPLOY_DATA_DIR: dataDir,
      SIMPLEDEPLOY_PROJECT_PREFIX: uniqueProjectName('sdtest-bench').slice(0, 30),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise((r) => child.once('exit', r));
  const base = `http://127.0.0.1:${port}`;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'X-API-KEY': apiKey, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  try {
    const pid = child.pid ?? 0;
    const deadline = Date.now() + 20_000;
    for (;;) {
      const up = await fetch(`${base}/up`).then(
        (r) => r.status,
        () => 0,
      );
      if (up === 200) break;
      if (Date.now() > deadline) throw new Error('the bundled server did not start within 20 s');
      await sleep(200);
    }
    await sleep(2000);
    const idle = await observe(pid, BASELINE_S);

    const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/never-deployed:v1\n';
    for (let i = 0; i < STACKS; i++) {
      const repo = await git.createRepo(`idle-${i}`, { 'compose.yaml': compose });
      const res = await api('POST', '/api/v1/stacks', {
        name: `idle-${i}`,
        repo_url: repo.url,
        repo_username: git.username,
        repo_token: git.password,
        reconcile_interval_seconds: INTERVAL_S,
      });
      if (res.status !== 201)
        throw new Error(`cannot create idle-${i}: ${JSON.stringify(res.json)}`);
    }
    // Every stack has polled at least once before the window opens.
    await sleep((INTERVAL_S + 2) * 1000);
    const requests0 = git.requestCount;
    const polling = await observe(pid, MEASURE_S);
    const requests = git.requestCount - requests0;
    const stacks = (await api('GET', '/api/v1/stacks')).json.stacks as {
      poll: { last_poll_at: string | null; failures: number };
    }[];
    const polled = stacks.filter((s) => s.poll.last_poll_at && s.poll.failures === 0).length;
    if (polled !== STACKS)
      throw new Error(`only ${polled} of ${STACKS} stacks polled without error`);

    const row = (cells: string[]) => `| ${cells.join(' | ')} |`;
    return {
      title: 'Idle server with 100 polling stacks (issue: hardening)',
      body: [
        `The bundled server (\`node apps/server/dist/main.js\`) with ${STACKS} git stacks, each its own repository on a local git server, \`reconcile_interval_seconds: ${INTERVAL_S}\`, never deployed (so each round is the ref listing alone: no clone, no drift check). CPU (user + system, /proc/<pid>/stat) and RSS (VmRSS, sampled every second) of the server process over ${MEASURE_S} s, against the same process idle with no stacks over ${BASELINE_S} s.`,
        '',
        row(['what', 'baseline (idle, no stacks)', `${STACKS} polling stacks`, 'ratio']),
        row(['---', '---', '---', '---']),
        row([
          'CPU, % of one core',
          `${fmt(idle.cpuPct, 2)} %`,
          `${fmt(polling.cpuPct, 2)} %`,
          `${fmt(polling.cpuPct / Math.max(idle.cpuPct, 0.01), 1)}×`,
        ]),
        row([
          'RSS mean / max',
          `${fmt(idle.rssMean, 0)} / ${fmt(idle.rssMax, 0)} MiB`,
          `${fmt(polling.rssMean, 0)} / ${fmt(polling.rssMax, 0)} MiB`,
          `**${fmt(polling.rssMean / idle.rssMean, 2)}×**`,
        ]),
        '',
        `${STACKS} of ${STACKS} stacks polled without error; the git server answered ${requests} requests in the ${MEASURE_S} s window (${fmt(requests / MEASURE_S, 1)}/s for ${fmt(STACKS / INTERVAL_S, 0)} polls/s expected).`,
      ].join('\n'),
    };
  } finally {
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timer);
    await git.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
