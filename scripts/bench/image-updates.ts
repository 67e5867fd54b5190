import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createDigestCache,
  createRegistryClient,
  type FetchLike,
  parseImageReference,
} from '@simpledeploy/compose';
import {
  createMovingTag,
  dockerOk,
  type MovingTag,
  writeDockerConfig,
} from '@simpledeploy/testing';
import { type BenchEnv, type BenchSection, ms, ratio } from './env';

const STACKS = Number(process.env.BENCH_UPDATE_STACKS ?? 200);
const IMAGES = Number(process.env.BENCH_UPDATE_IMAGES ?? 20);
/** In flight at once, as the update scheduler runs its checks. */
const CONCURRENCY = 4;
const row = (cells: string[]) => `| ${cells.join(' | ')} |`;

/** Runs fn over items with at most CONCURRENCY at once. */
async function pool<T>(items: T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < items.length) {
        const item = items[next++] as T;
        await fn(item);
      }
    }),
  );
}

interface Round {
  wallMs: number;
  cpuMs: number;
  requests: number;
}

/** One round of registry lookups for every stack: wall time, this process's CPU, HTTP requests. */
async function round(lookup: (ref: string, fetch: FetchLike) => Promise<string>, refs: string[]) {
  let requests = 0;
  const counting: FetchLike = (url, init) => {
    requests++;
    return fetch(url, init);
  };
  const cpu = process.cpuUsage();
  const t0 = performance.now();
  await pool(refs, (ref) => lookup(ref, counting));
  const used = process.cpuUsage(cpu);
  return {
    wallMs: performance.now() - t0,
    cpuMs: (used.user + used.system) / 1000,
    requests,
  } satisfies Round;
}

/**
 * One image update round over STACKS stacks that share IMAGES images of the private
 * registry (htpasswd auth): simpledeploy's lookups (HEAD on the manifest, kept
 * credentials, answers shared for the round) against a lookup per stack without the
 * cache, and against a `docker pull` per stack of the unchanged images. The running
 * side of a check (`docker inspect` of each stack's containers) is not in it.
 */
export async function benchImageUpdates(env: BenchEnv): Promise<BenchSection> {
  const login = { username: env.registry.username, password: env.registry.password };
  const tags: MovingTag[] = [];
  const config = await mkdtemp(join(tmpdir(), 'sd-bench-updates-'));
  try {
    for (let i = 0; i < IMAGES; i++) {
      const tag = await createMovingTag(env.registry);
      await tag.push(env.images.webV1);
      tags.push(tag);
    }
    const refs = Array.from({ length: STACKS }, (_, i) => tags[i % IMAGES]?.ref as string);

    // simpledeploy: one client and one cache for the round, as the scheduler has them.
    let shared: ReturnType<typeof createDigestCache> | undefined;
    const cached = await round((ref, f) => {
      shared ??= (() => {
        const client = createRegistryClient({ fetch: f });
        return createDigestCache({
          lookup: (r, l) => client.manifestDigest(r, l),
          now: Date.now,
          ttlMs: 60_000,
        });
      })();
      return shared.digest(parseImageReference(ref), login);
    }, refs);
    // Without the cache and kept credentials: every stack asks from scratch (401, then auth).
    const uncached = await round(
      (ref, f) =>
        createRegistryClient({ fetch: f }).manifestDigest(parseImageReference(ref), login),
      refs,
    );

    // The baseline: `docker pull` of each stack's (unchanged, already present) image.
    await writeDockerConfig(config, { [env.registry.host]: login });
    const dockerEnv = { DOCKER_CONFIG: config };
    for (const tag of tags) await dockerOk(['pull', '--quiet', tag.ref], { env: dockerEnv });
    const t0 = performance.now();
    await pool(refs, (ref) => dockerOk(['pull', '--quiet', ref], { env: dockerEnv }));
    const pullMs = performance.now() - t0;

    const body = [
      `${STACKS} stacks sharing ${IMAGES} images of the private registry (htpasswd auth, loopback), ${CONCURRENCY} checks in flight. One round asks the registry for every stack's tag; the running side (\`docker inspect\` of the containers) is not counted. CPU is this process's (user + system).`,
      '',
      row(['round', 'total', 'CPU', 'registry requests', 'vs simpledeploy']),
      row(['---', '---', '---', '---', '---']),
      row([
        'simpledeploy (HEAD, kept login, answers shared per round)',
        ms(cached.wallMs),
        ms(cached.cpuMs),
        String(cached.requests),
        '1.00×',
      ]),
      row([
        'a HEAD per stack, no cache, login from scratch',
        ms(uncached.wallMs),
        ms(uncached.cpuMs),
        String(uncached.requests),
        ratio(uncached.wallMs, cached.wallMs),
      ]),
      row([
        '`docker pull` per stack (images unchanged)',
        ms(pullMs),
        'n/a (docker CLI and engine)',
        'not counted',
        ratio(pullMs, cached.wallMs),
      ]),
    ].join('\n');
    return {
      title: `Image update check: one round over ${STACKS} stacks sharing ${IMAGES} images`,
      body,
    };
  } finally {
    for (const tag of tags) await tag.remove();
    await rm(config, { recursive: true, force: true });
  }
}
