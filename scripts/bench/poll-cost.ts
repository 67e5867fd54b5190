import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { createGitClient } from '@simpledeploy/git';
import { getFreePort, gitRepoStore, uniqueProjectName } from '@simpledeploy/testing';
import git from 'isomorphic-git';
import nodeHttp from 'isomorphic-git/http/node';
import type { BenchSection } from './env';
import { cpuSeconds, fmt, rssMiB } from './load-kit';
import { profileArgs } from './processes';
import { type BenchTarget, targetTable } from './targets';

const here = dirname(fileURLToPath(import.meta.url));
const serverDir = join(here, '../../apps/server');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

export interface ExternalGitServer {
  url: string;
  root: string;
  username: string;
  password: string;
  close(): Promise<void>;
}

/** Starts a bench child that prints one JSON line when ready and stops when its stdin closes. */
async function startChild(script: string, env: Record<string, string>) {
  const child = spawn(process.execPath, ['--import', 'tsx', join(here, script)], {
    cwd: here,
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${script} exited (${code})`)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).once('line', resolve);
  });
  return {
    info: JSON.parse(line) as { url: string; root: string },
    close: () => stopChild(child, () => child.stdin?.end()),
  };
}

/** The test git server in its own process: its request handling is not the poller's CPU. */
export async function startExternalGitServer(): Promise<ExternalGitServer> {
  const username = 'bench';
  const password = randomBytes(12).toString('hex');
  const { info, close } = await startChild('git-server-child.ts', {
    GIT_SERVER_USER: username,
    GIT_SERVER_PASSWORD: password,
  });
  return { ...info, username, password, close };
}

async function stopChild(child: ChildProcess, ask: () => void): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  ask();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

const POLLS = Number(process.env.BENCH_POLL_COUNT ?? 300);

/**
 * CPU of this process per poll of an unchanged repository: the poller's path now
 * (createGitClient().resolveRemote: keep-alive, one ls-refs POST) against the path
 * before (isomorphic-git listServerRefs over its simple-get transport, protocol v2 with
 * a prefix, the Authorization header up front), interleaved in rounds.
 */
async function cpuPerPoll(server: ExternalGitServer) {
  const repo = await gitRepoStore(server).createRepo(
    `poll-cost-${randomBytes(4).toString('hex')}`,
    {
      'compose.yaml': 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n',
    },
  );
  const creds = { username: server.username, token: server.password };
  const client = createGitClient({ requestTimeoutMs: 10_000 });
  const authorization = `Basic ${Buffer.from(`${creds.username}:${creds.token}`).toString('base64')}`;
  const now = async () => {
    await client.resolveRemote(repo.url, 'main', creds);
  };
  const before = async () => {
    const refs = await git.listServerRefs({
      http: nodeHttp,
      url: repo.url,
      protocolVersion: 2,
      prefix: 'refs/heads/main',
      peelTags: true,
      headers: { authorization },
      onAuth: () => ({ username: creds.username, password: creds.token }),
      onAuthFailure: () => ({ cancel: true }),
    });
    if (!refs.some((r) => r.ref === 'refs/heads/main')) throw new Error('main not listed');
  };
  // The floor: the same client against a responder that answers the same bytes after a
  // fixed delay, without spawning git beside us.
  const commit = (await client.resolveRemote(repo.url, 'main', creds)).commit;
  const stand = await startChild('static-git-child.ts', {
    STATIC_OID: commit,
    STATIC_DELAY_MS: '25',
  });
  const floor = async () => {
    await client.resolveRemote(`${stand.info.url}/repo.git`, 'main', creds);
  };
  const measure = async (poll: () => Promise<void>, n: number) => {
    const c0 = process.cpuUsage();
    for (let i = 0; i < n; i++) await poll();
    const c = process.cpuUsage(c0);
    return (c.user + c.system) / 1000;
  };
  for (let i = 0; i < 20; i++) {
    await now();
    await before();
    await floor();
  }
  const rounds = 6;
  let nowMs = 0;
  let beforeMs = 0;
  let floorMs = 0;
  for (let r = 0; r < rounds; r++) {
    // Alternate who goes first so a drift in machine load hits both alike.
    if (r % 2 === 0) {
      nowMs += await measure(now, POLLS / rounds);
      beforeMs += await measure(before, POLLS / rounds);
      floorMs += await measure(floor, POLLS / rounds);
    } else {
      floorMs += await measure(floor, POLLS / rounds);
      beforeMs += await measure(before, POLLS / rounds);
      nowMs += await measure(now, POLLS / rounds);
    }
  }
  await stand.close();
  return { now: nowMs / POLLS, before: beforeMs / POLLS, floor: floorMs / POLLS, polls: POLLS };
}

const STACKS = Number(process.env.BENCH_POLL_STACKS ?? 1000);
const INTERVAL_S = Number(process.env.BENCH_POLL_INTERVAL_S ?? 60);
const WINDOW_S = Number(process.env.BENCH_POLL_WINDOW_S ?? 120);
const BASELINE_S = Number(process.env.BENCH_POLL_BASELINE_S ?? 30);

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
 * The bundled server as users start it, with STACKS git stacks (each its own repository
 * on the external git server, never deployed): idle with polling off, then the same
 * process with every stack polling every INTERVAL_S seconds.
 */
async function idleThousand(server: ExternalGitServer) {
  // As `pnpm start` runs it; from source with tsx when the bundle does not build.
  let argv = [join(serverDir, 'dist/main.js')];
  let how = '`node apps/server/dist/main.js`';
  try {
    execFileSync(join(serverDir, 'node_modules/.bin/tsup'), { cwd: serverDir, stdio: 'pipe' });
  } catch {
    argv = ['--import', 'tsx', join(serverDir, 'src/main.ts')];
    how =
      '`node --import tsx apps/server/src/main.ts` (the bundle did not build in this run; the tsx loader adds to RSS)';
  }
  // One repository made with git, copied: STACKS distinct URLs without STACKS git runs.
  const store = gitRepoStore(server);
  const seed = await store.createRepo(`idle-seed-${randomBytes(4).toString('hex')}`, {
    'compose.yaml': 'services:\n  web:\n    image: 127.0.0.1:5000/never-deployed:v1\n',
  });
  const names = Array.from(
    { length: STACKS },
    (_, i) => `idle1k-${i}-${randomBytes(3).toString('hex')}`,
  );
  for (const name of names)
    cpSync(seed.path, join(server.root, `${name}.git`), { recursive: true });

  const dataDir = mkdtempSync(join(tmpdir(), 'sd-bench-poll1k-'));
  const apiKey = `bench-poll-${randomBytes(12).toString('hex')}`;
  const port = await getFreePort();
  const child = spawn(process.execPath, [...profileArgs(), ...argv], {
    cwd: serverDir,
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOST: '127.0.0.1',
      PORT: String(port),
      SIMPLEDEPLOY_API_KEY: apiKey,
      SIMPLEDEPLOY_SECRET_KEY: 'bench-poll-secret-key-0123456789',
      SIMPLEDEPLOY_DATA_DIR: dataDir,
      SIMPLEDEPLOY_PROJECT_PREFIX: uniqueProjectName('sdtest-bench').slice(0, 30),
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
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
    const deadline = Date.now() + 60_000;
    while (
      (await fetch(`${base}/up`).then(
        (r) => r.status,
        () => 0,
      )) !== 200
    ) {
      if (Date.now() > deadline) throw new Error('the server did not start within 60 s');
      await sleep(200);
    }
    const create = async (name: string) => {
      const res = await api('POST', '/api/v1/stacks', {
        name,
        repo_url: `${server.url}/${name}.git`,
        repo_username: server.username,
        repo_token: server.password,
        reconcile_interval_seconds: 0,
      });
      if (res.status !== 201) throw new Error(`cannot create ${name}: ${JSON.stringify(res.json)}`);
    };
    for (let i = 0; i < names.length; i += 16)
      await Promise.all(names.slice(i, i + 16).map(create));
    await sleep(3000);
    const idle = await observe(pid, BASELINE_S);

    const enable = async (name: string) => {
      const res = await api('PATCH', `/api/v1/stacks/${name}`, {
        reconcile_interval_seconds: INTERVAL_S,
      });
      if (res.status !== 200) throw new Error(`cannot update ${name}: ${JSON.stringify(res.json)}`);
    };
    for (let i = 0; i < names.length; i += 16)
      await Promise.all(names.slice(i, i + 16).map(enable));
    // One whole interval first: every stack's first poll (it records the commit, a change)
    // is over; the window then holds the steady state, each stack polled once per interval.
    await sleep(INTERVAL_S * 1000 + 5000);
    const polling = await observe(pid, WINDOW_S);
    const list = (await api('GET', '/api/v1/stacks')).json.stacks as {
      poll: { last_poll_at: string | null; failures: number };
    }[];
    const polled = list.filter((s) => s.poll.last_poll_at && s.poll.failures === 0).length;
    return { idle, polling, polled, listed: list.length, how };
  } finally {
    await stopChild(child, () => child.kill('SIGTERM'));
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** docs/benchmarks.md: CPU per poll, and a thousand stacks polling every minute. */
export async function benchPollCost(): Promise<BenchSection> {
  const server = await startExternalGitServer();
  try {
    const perPoll = await cpuPerPoll(server);
    console.log(
      `poll cost: ${fmt(perPoll.now, 2)} ms now vs ${fmt(perPoll.before, 2)} ms before per poll`,
    );
    const k = await idleThousand(server);
    const pollsPerS = STACKS / INTERVAL_S;
    const added = k.polling.cpuPct - k.idle.cpuPct;
    const perPollMs = (added * 10) / pollsPerS;
    const targets: BenchTarget[] = [
      {
        what: `server CPU per poll of an unchanged repository (${STACKS} stacks every ${INTERVAL_S} s: CPU added by polling ÷ polls)`,
        ratio: perPollMs,
        kind: 'max',
        bound: 1,
        unit: ' ms',
      },
      {
        what: `${STACKS} stacks polling every ${INTERVAL_S} s, server CPU`,
        ratio: k.polling.cpuPct,
        kind: 'max',
        bound: 2,
        unit: ' % of a core',
      },
      {
        what: `${STACKS} stacks polling every ${INTERVAL_S} s, server RSS (max of the window)`,
        ratio: k.polling.rssMax * 1.048576,
        kind: 'max',
        bound: 150,
        unit: ' MB',
      },
    ];
    return {
      title: `Polling cost: CPU per poll, and ${STACKS} stacks polling every ${INTERVAL_S} s (issue 14)`,
      targets,
      body: [
        `The server (${k.how}) with ${STACKS} git stacks, each its own repository on a git server in its own process (git http-backend behind Basic auth, loopback; distinct URLs: no two share a listing), never deployed; ${BASELINE_S} s with polling off (the baseline), then every stack set to \`reconcile_interval_seconds: ${INTERVAL_S}\`, one interval left for every stack's first poll, and the next ${WINDOW_S} s measured (${fmt(pollsPerS, 1)} polls/s; no time compression). CPU from /proc/<pid>/stat, RSS (VmRSS) sampled every second.`,
        '',
        row([
          'what',
          'baseline (same server, polling off)',
          `${STACKS} stacks polling every ${INTERVAL_S} s`,
          'ratio',
        ]),
        row(['---', '---', '---', '---']),
        row([
          'CPU, % of one core',
          `${fmt(k.idle.cpuPct, 2)} %`,
          `**${fmt(k.polling.cpuPct, 2)} %**`,
          `${fmt(k.polling.cpuPct / Math.max(k.idle.cpuPct, 0.01), 1)}×`,
        ]),
        row([
          'RSS mean / max',
          `${fmt(k.idle.rssMean, 0)} / ${fmt(k.idle.rssMax, 0)} MiB`,
          `**${fmt(k.polling.rssMean, 0)} / ${fmt(k.polling.rssMax, 0)} MiB**`,
          `${fmt(k.polling.rssMean / k.idle.rssMean, 2)}×`,
        ]),
        '',
        `Polling adds ${fmt(added, 2)} % of a core: ${fmt(perPollMs, 2)} ms of server CPU per poll (the ref listing on a kept-alive connection through undici, the stack's poll columns read, and the times of unchanged polls written together at most every 10 s). ${k.polled} of ${k.listed} stacks listed had polled without error by the end.`,
        '',
        targetTable(targets),
        '',
        `One poll alone, woken for it: the poller's client (createGitClient().resolveRemote: kept-alive connection, one ls-refs POST) in this bench's process, one unchanged repository polled ${perPoll.polls} times in a row per path, interleaved in 6 rounds, against the path before it (isomorphic-git listServerRefs over simple-get). Each poll here waits for its answer with nothing else to do, so each pays a wake-up of the process from cold caches that the server shares among the polls of a round (it polls on a 1 s grid): these rows are the price of a poll in isolation, not the server's per-poll cost above.`,
        '',
        row(['what', 'before (isomorphic-git listServerRefs, simple-get)', 'now', 'ratio']),
        row(['---', '---', '---', '---']),
        row([
          'CPU per poll, against the git server',
          `${fmt(perPoll.before, 2)} ms`,
          `${fmt(perPoll.now, 2)} ms`,
          `${fmt(perPoll.now / perPoll.before, 2)}×`,
        ]),
        row([
          'CPU per poll, against a stand-in (the same answer after 25 ms, no git spawned beside us)',
          '',
          `${fmt(perPoll.floor, 2)} ms`,
          '',
        ]),
      ].join('\n'),
    };
  } finally {
    await server.close();
  }
}
