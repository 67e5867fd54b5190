import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { docker, dockerOk } from './exec.js';
import type { TestRegistry } from './registry.js';

/** A tag of its own in a test registry, moved by pushing other images under it. */
export interface MovingTag {
  /** `<registry>/sd-updates-<random>:live` */
  ref: string;
  /** `<registry>/sd-updates-<random>`, the repository of `ref`. */
  repo: string;
  /**
   * Pushes a local image under `ref` (as the registry's user) and returns the manifest
   * digest the registry has for it now. The engine keeps no tag for `ref` afterwards, so a
   * deploy of it has to pull.
   */
  push(source: string): Promise<string>;
  /** Removes what the pushes and the deploys of `ref` left in the engine. */
  remove(): Promise<void>;
}

export async function createMovingTag(
  registry: Pick<TestRegistry, 'host' | 'username' | 'password'>,
): Promise<MovingTag> {
  const repo = `${registry.host}/sd-updates-${randomBytes(4).toString('hex')}`;
  const ref = `${repo}:live`;
  const config = await mkdtemp(join(tmpdir(), 'sd-moving-tag-'));
  const env = { DOCKER_CONFIG: config };
  if (registry.username !== undefined && registry.password !== undefined)
    await dockerOk(['login', '--username', registry.username, '--password-stdin', registry.host], {
      env,
      input: registry.password,
    });
  const pushed: string[] = [];
  return {
    ref,
    repo,
    async push(source) {
      await dockerOk(['tag', source, ref]);
      await dockerOk(['push', '--quiet', ref], { env });
      const { stdout } = await dockerOk([
        'image',
        'inspect',
        '--format',
        '{{json .RepoDigests}}',
        ref,
      ]);
      const digest = (JSON.parse(stdout) as string[])
        .find((d) => d.startsWith(`${repo}@`))
        ?.split('@')[1];
      if (!digest) throw new Error(`no digest for ${ref} after the push: ${stdout}`);
      pushed.push(`${repo}@${digest}`);
      await dockerOk(['rmi', ref]);
      return digest;
    },
    async remove() {
      await docker(['rmi', ref, ...pushed]);
      await rm(config, { recursive: true, force: true });
    },
  };
}
