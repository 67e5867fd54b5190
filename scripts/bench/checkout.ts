import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createExecaRunner } from '@simpledeploy/deployer';
import { createGitClient } from '@simpledeploy/git';
import { runOk } from '@simpledeploy/testing';
import { type BenchSection, ms, ratio, stats } from './env';
import { type ExternalGitServer, startExternalGitServer } from './poll-cost';
import type { BenchTarget } from './targets';

const FILES = Number(process.env.BENCH_CHECKOUT_FILES ?? 2000);
const ROUNDS = Number(process.env.BENCH_CHECKOUT_ROUNDS ?? 5);
const GIT_ENV = {
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@simpledeploy.invalid',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@simpledeploy.invalid',
};

/** A repository of FILES files: the stack in deploy/ (compose, a config), the rest an app. */
async function seedRepo(server: ExternalGitServer, work: string) {
  const name = `checkout-${randomBytes(4).toString('hex')}`;
  const bare = join(server.root, `${name}.git`);
  const src = join(work, 'seed');
  const git = (cwd: string, args: string[]) => runOk('git', ['-C', cwd, ...args], { env: GIT_ENV });
  mkdirSync(join(src, 'deploy'), { recursive: true });
  writeFileSync(
    join(src, 'deploy/compose.yaml'),
    'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n',
  );
  writeFileSync(join(src, 'deploy/app.conf'), 'workers=4\n');
  writeFileSync(join(src, '.env'), 'TAG=v1\n');
  for (let i = 0; i < FILES - 3; i++) {
    const dir = join(src, 'app', `m${i % 40}`);
    mkdirSync(dir, { recursive: true });
    // Text that does not compress to nothing: ~2 KB of hex per file.
    writeFileSync(
      join(dir, `f${i}.ts`),
      `export const x${i} = '${randomBytes(1024).toString('hex')}';\n`,
    );
  }
  await git(src, ['init', '--quiet', '--initial-branch=main']);
  await git(src, ['add', '-A']);
  await git(src, ['commit', '--quiet', '-m', 'seed']);
  await runOk('git', ['init', '--quiet', '--bare', '--initial-branch=main', bare], {
    env: GIT_ENV,
  });
  for (const [k, v] of [
    ['http.receivepack', 'true'],
    ['uploadpack.allowFilter', 'true'],
    ['uploadpack.allowReachableSHA1InWant', 'true'],
  ] as const)
    await git(bare, ['config', k, v]);
  await git(src, ['push', '--quiet', bare, 'HEAD:main']);
  return {
    url: `${server.url}/${name}.git`,
    async change() {
      writeFileSync(
        join(src, 'deploy/compose.yaml'),
        `services:\n  web:\n    image: w:${randomBytes(4).toString('hex')}\n`,
      );
      await git(src, ['commit', '--quiet', '-am', 'change']);
      await git(src, ['push', '--quiet', bare, 'HEAD:main']);
    },
  };
}

/**
 * The first checkout of a 2000-file repository whose compose needs deploy/ only:
 * simpledeploy with the git CLI (shallow, blobless, sparse) and with isomorphic-git (a
 * full shallow clone, the only way before), against native `git clone --depth 1
 * --filter=blob:none --sparse` + `git sparse-checkout set deploy` and native `git clone
 * --depth 1`; then a checkout after one changed file into the existing clone against
 * native `fetch` + `checkout` of it. Interleaved rounds, the git server in its own process.
 */
export async function benchCheckout(): Promise<BenchSection> {
  const server = await startExternalGitServer();
  const work = mkdtempSync(join(tmpdir(), 'sd-bench-checkout-'));
  try {
    const repo = await seedRepo(server, work);
    const creds = { username: server.username, token: server.password };
    const header = `Authorization: Basic ${Buffer.from(`${creds.username}:${creds.token}`).toString('base64')}`;
    const nativeEnv = {
      ...GIT_ENV,
      GIT_CONFIG_COUNT: '1',
      GIT_CONFIG_KEY_0: 'http.extraHeader',
      GIT_CONFIG_VALUE_0: header,
    };
    const native = (args: string[]) => runOk('git', args, { env: nativeEnv });
    const cli = createGitClient({
      cli: { runner: createExecaRunner(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin' } },
    });
    const iso = createGitClient();
    let n = 0;
    const fresh = () => join(work, `d${n++}`);
    const time = async (fn: (dir: string) => Promise<unknown>) => {
      const dir = fresh();
      const t = performance.now();
      await fn(dir);
      return { ms: performance.now() - t, dir };
    };
    const paths = {
      nativeSparse: async (d: string) => {
        await native([
          'clone',
          '--quiet',
          '--depth',
          '1',
          '--filter=blob:none',
          '--sparse',
          repo.url,
          d,
        ]);
        await native(['-C', d, 'sparse-checkout', 'set', 'deploy']);
      },
      nativeFull: (d: string) => native(['clone', '--quiet', '--depth', '1', repo.url, d]),
      cliSparse: (d: string) =>
        cli.checkoutWithStats(repo.url, 'main', d, creds, { sparse: ['deploy'] }),
      isoFull: (d: string) => iso.checkoutWithStats(repo.url, 'main', d, creds),
    };
    const times: Record<keyof typeof paths, number[]> = {
      nativeSparse: [],
      nativeFull: [],
      cliSparse: [],
      isoFull: [],
    };
    let lastNative = '';
    let lastCli = '';
    // Warm-up: the server's page cache.
    await time(paths.nativeFull);
    for (let r = 0; r < ROUNDS; r++) {
      const order = Object.keys(paths) as (keyof typeof paths)[];
      if (r % 2) order.reverse();
      for (const k of order) {
        const res = await time(paths[k]);
        times[k].push(res.ms);
        if (k === 'nativeSparse') lastNative = res.dir;
        if (k === 'cliSparse') lastCli = res.dir;
        if (k !== 'nativeSparse' && k !== 'cliSparse')
          rmSync(res.dir, { recursive: true, force: true });
      }
    }
    // Later checkouts: one file of deploy/ changed, into the clones just made.
    const nativeLater: number[] = [];
    const cliLater: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      await repo.change();
      let t = performance.now();
      await native([
        '-C',
        lastNative,
        'fetch',
        '--quiet',
        '--depth',
        '1',
        '--filter=blob:none',
        'origin',
        'main',
      ]);
      await native(['-C', lastNative, 'checkout', '--quiet', '--detach', 'FETCH_HEAD']);
      nativeLater.push(performance.now() - t);
      t = performance.now();
      const res = await cli.checkoutWithStats(repo.url, 'main', lastCli, creds, {
        sparse: ['deploy'],
      });
      cliLater.push(performance.now() - t);
      if (!res.reused || !res.fetched)
        throw new Error('the later checkout did not reuse the clone');
    }
    const s = Object.fromEntries(
      Object.entries(times).map(([k, v]) => [k, stats(v).median]),
    ) as Record<keyof typeof paths, number>;
    const nl = stats(nativeLater).median;
    const cl = stats(cliLater).median;
    const holds = s.cliSparse <= 2 * s.nativeSparse ? 'holds' : '**does not hold**';
    console.log(
      `checkout: cli ${ms(s.cliSparse)} vs native sparse ${ms(s.nativeSparse)} (${ratio(s.cliSparse, s.nativeSparse)})`,
    );
    const row = (c: string[]) => `| ${c.join(' | ')} |`;
    const targets: BenchTarget[] = [
      {
        what: `first checkout of a ${FILES}-file repository, one directory needed, vs native sparse blobless clone of it (medians)`,
        ratio: s.cliSparse / s.nativeSparse,
        kind: 'max',
        bound: 2,
      },
    ];
    return {
      title: `First checkout of a ${FILES}-file repository whose compose needs one directory (issue 14)`,
      targets,
      body: [
        `The stack's compose file and a config in \`deploy/\`, a \`.env\` at the root, ${FILES - 3} other files (~2 KB each) in \`app/\`. The git server (git http-backend behind Basic auth, \`uploadpack.allowFilter\` on, like GitHub) runs in its own process; each checkout into a new directory, ${ROUNDS} interleaved rounds, medians.`,
        '',
        row(['what', 'median', `vs native sparse (${ms(s.nativeSparse)})`, 'target']),
        row(['---', '---', '---', '---']),
        row([
          'native `git clone --depth 1 --filter=blob:none --sparse` + `git sparse-checkout set deploy` (baseline)',
          ms(s.nativeSparse),
          '1.00×',
          '',
        ]),
        row([
          '**simpledeploy with the git CLI** (ls-refs, then init, `sparse-checkout set --cone deploy`, `fetch --depth 1 --filter=blob:none`, tree limits, `checkout`)',
          ms(s.cliSparse),
          `**${ratio(s.cliSparse, s.nativeSparse)}**`,
          `≤ 2×: ${holds}`,
        ]),
        row([
          'simpledeploy with isomorphic-git (full shallow clone: without git installed)',
          ms(s.isoFull),
          ratio(s.isoFull, s.nativeSparse),
          '',
        ]),
        row([
          'native `git clone --depth 1` (whole tree)',
          ms(s.nativeFull),
          ratio(s.nativeFull, s.nativeSparse),
          '',
        ]),
        '',
        `A later checkout after one changed file of \`deploy/\`, into the clone the first made: simpledeploy ${ms(cl)} against native \`fetch --depth 1 --filter=blob:none\` + \`checkout\` ${ms(nl)} (**${ratio(cl, nl)}**); it fetches the new commit's trees and the changed blob only.`,
      ].join('\n'),
    };
  } finally {
    await server.close();
    rmSync(work, { recursive: true, force: true });
  }
}
