import { accessSync, constants, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The folders the docker CLI searches for its plugins, in its order: the user's
 * (`$DOCKER_CONFIG/cli-plugins`, by default `~/.docker/cli-plugins`), then the system's.
 */
export function cliPluginDirs(env: Record<string, string | undefined>): string[] {
  const config = env.DOCKER_CONFIG || (env.HOME ? join(env.HOME, '.docker') : undefined);
  return [
    ...(config ? [join(config, 'cli-plugins')] : []),
    '/usr/local/lib/docker/cli-plugins',
    '/usr/local/libexec/docker/cli-plugins',
    '/usr/lib/docker/cli-plugins',
    '/usr/libexec/docker/cli-plugins',
  ];
}

const isExecutableFile = (path: string): boolean => {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The compose plugin binary the docker CLI would run for `docker compose`, found where
 * the CLI looks for it from the server's own environment; undefined when there is none
 * (then `docker compose` runs as is, and reports the missing plugin itself).
 *
 * Found once at start-up, from the server's environment rather than a compose child's:
 * every child gets a private DOCKER_CONFIG of its session, where the CLI would not see a
 * plugin installed in `~/.docker/cli-plugins`.
 */
export function findComposePlugin(env: Record<string, string | undefined>): string | undefined {
  for (const dir of cliPluginDirs(env)) {
    const path = join(dir, 'docker-compose');
    if (isExecutableFile(path)) return path;
  }
  return undefined;
}
