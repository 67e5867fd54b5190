/** Where a compose project's files are and what it is called. */
export interface ComposeTarget {
  project: string;
  /** Absolute paths, in `-f` order. */
  files: readonly string[];
  /** Absolute paths of the env files compose interpolates with, in order (later wins). */
  envFiles?: readonly string[] | undefined;
  /** Profiles to enable (`--profile`); `*` enables every one. */
  profiles?: readonly string[] | undefined;
}

/**
 * The one builder of `docker compose` argv: always `-p` and every `-f`, never a shell
 * string. The program to run is `docker`.
 */
export function composeArgs(
  target: ComposeTarget,
  subcommand: string,
  extra: readonly string[] = [],
): string[] {
  if (target.files.length === 0) throw new Error('composeArgs needs at least one compose file');
  const args = ['compose', '-p', target.project];
  for (const f of target.files) args.push('-f', f);
  for (const e of target.envFiles ?? []) args.push('--env-file', e);
  for (const p of target.profiles ?? []) args.push('--profile', p);
  args.push(subcommand, ...extra);
  return args;
}

/** Args that need only the project name (down/ps after the files are gone). */
export function composeProjectArgs(
  project: string,
  subcommand: string,
  extra: readonly string[] = [],
): string[] {
  return ['compose', '-p', project, subcommand, ...extra];
}

export const DEFAULT_COMPOSE_FILES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yaml',
  'docker-compose.yml',
] as const;
