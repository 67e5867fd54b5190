import {
  composeArgs,
  type DesiredProject,
  type DriftItem,
  diffDrift,
  PROJECT_LABEL,
  parseComposeConfig,
  parseInspect,
} from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type CommandRunner,
  type GitClient,
  isAppError,
  type Logger,
  type SecretBox,
} from '@simpledeploy/core';
import { type Db, getVersion, type StackRow, updateStack, type VersionRow } from '@simpledeploy/db';
import { type Deployer, decryptSecrets, diffSwarmDrift } from '@simpledeploy/deployer';
import { type CrashLoopPolicy, createCrashLoopWatch } from './crash-loops';

export interface DriftServiceDeps {
  db: Db;
  runner: CommandRunner;
  deployer: Deployer;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  /** For the git part of the report; without it `git.remote_commit` is the last polled one. */
  git?: GitClient | undefined;
  config: {
    dockerBin?: string | undefined;
    /** When restarts make a crash loop (default: more than 5 in 10 minutes). */
    crashLoop?: CrashLoopPolicy | undefined;
  };
}

export interface GitDrift {
  deployed_commit: string | null;
  remote_commit: string | null;
  behind: boolean;
  /** Why the remote could not be asked; remote_commit is then the last polled one. */
  error: string | null;
}

/** `GET /api/v1/stacks/{stack}/drift` (api.md). */
export interface DriftReport {
  stack_id: string;
  in_sync: boolean;
  version_id: string | null;
  checked_at: string;
  git: GitDrift | null;
  services: DriftItem[];
}

const CACHE_LIMIT = 256;

/**
 * Drift between a stack's current version and its containers: desired services from
 * `docker compose config --format json` of the version, actual ones from the engine
 * by project label, compared by the pure diff in @simpledeploy/compose.
 */
export function createDriftService(deps: DriftServiceDeps) {
  const { db, runner, deployer, config } = deps;
  const docker = config.dockerBin ?? 'docker';
  // A version never changes, so neither does what compose makes of it: parse it once.
  const desiredCache = new Map<string, DesiredProject>();
  // Remembers restart counts between checks, to tell a crash loop from restarts long ago.
  const crashLoops = createCrashLoopWatch(deps.clock, config.crashLoop);

  const engineError = (what: string, stderr: string) =>
    new AppError('UNAVAILABLE', `cannot ${what}: the Docker engine did not answer`, {
      reason: stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 500),
    });

  async function desired(stack: StackRow, version: VersionRow): Promise<DesiredProject> {
    const project = deployer.projectOf(stack);
    const key = `${version.id}:${project}`;
    const cached = desiredCache.get(key);
    if (cached) return cached;
    // A scratch copy, not the deploy dir: a deploy may be writing the next version there.
    const session = await deployer.scratchSession(stack.name, version.state);
    try {
      const res = await runner.run(
        docker,
        composeArgs(session.target, 'config', ['--format', 'json']),
        {
          cwd: session.dir,
          env: session.env,
        },
      );
      if (res.exitCode !== 0) {
        throw new AppError(
          'VALIDATION',
          `docker compose config failed for version ${version.id}: ${res.stderr.trim().split('\n').slice(-2).join(' | ')}`,
        );
      }
      const parsed = parseComposeConfig(res.stdout, version.state.services);
      if (desiredCache.size >= CACHE_LIMIT) {
        const oldest = desiredCache.keys().next().value;
        if (oldest !== undefined) desiredCache.delete(oldest);
      }
      desiredCache.set(key, parsed);
      return parsed;
    } finally {
      await session.dispose();
    }
  }

  async function containers(stack: StackRow) {
    const project = deployer.projectOf(stack);
    // The engine of the stack's host: drift is what runs there.
    const env = await deployer.engineEnv(stack);
    const ps = await runner.run(
      docker,
      ['ps', '-a', '-q', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`],
      { env },
    );
    if (ps.exitCode !== 0) throw engineError(`list the containers of ${project}`, ps.stderr);
    const ids = ps.stdout.split('\n').filter((l) => l.trim());
    if (ids.length === 0) return [];
    const inspect = await runner.run(docker, ['inspect', ...ids], { env });
    // A container removed between ps and inspect makes inspect fail for it alone.
    if (inspect.exitCode !== 0 && !inspect.stdout.trim().startsWith('[')) {
      throw engineError(`inspect the containers of ${project}`, inspect.stderr);
    }
    return parseInspect(inspect.stdout);
  }

  /** Container drift of a stack's current version; undefined when nothing was deployed yet. */
  async function containerDrift(stack: StackRow): Promise<DriftItem[] | undefined> {
    const version = stack.currentVersionId
      ? getVersion(db, stack.id, stack.currentVersionId)
      : undefined;
    if (!version) return undefined;
    if (stack.engine === 'swarm') {
      // Services, not containers: replicas running on the nodes, and the digests recorded
      // at the version's last success.
      const [want, swarm] = await Promise.all([
        desired(stack, version),
        deployer.swarmState(stack),
      ]);
      return diffSwarmDrift(want, swarm.services, swarm.tasks, version.imageDigests);
    }
    const [want, have] = await Promise.all([desired(stack, version), containers(stack)]);
    crashLoops.prune();
    return crashLoops.judge(have, diffDrift(want, have));
  }

  async function gitDrift(stack: StackRow): Promise<GitDrift | null> {
    if (!stack.repoUrl) return null;
    let remote = stack.remoteCommit;
    let error: string | null = null;
    if (deps.git) {
      try {
        const token = decryptSecrets(stack, deps.secrets).repoToken;
        remote = (
          await deps.git.resolveRemote(stack.repoUrl, stack.repoBranch ?? undefined, {
            username: stack.repoUsername ?? undefined,
            token,
          })
        ).commit;
        // What was just learnt is the stack's too: its JSON must not say remote_commit null
        // and behind false while this report says behind (polling off).
        if (remote && remote !== stack.remoteCommit) {
          updateStack(db, stack.id, { remoteCommit: remote });
          deployer.emit({ type: 'stack', stackId: stack.id });
        }
      } catch (err) {
        // An unreachable git server must not hide what the engine says.
        error = isAppError(err) ? err.message : 'asking the git server failed';
      }
    }
    return {
      deployed_commit: stack.deployedCommit,
      remote_commit: remote,
      behind: !!remote && remote !== stack.deployedCommit,
      error,
    };
  }

  return {
    containerDrift,

    async report(stackIdOrName: string): Promise<DriftReport> {
      const stack = deployer.requireStack(stackIdOrName);
      const [services, git] = await Promise.all([containerDrift(stack), gitDrift(stack)]);
      return {
        stack_id: stack.id,
        in_sync: services !== undefined && services.length === 0 && !git?.behind,
        version_id: stack.currentVersionId,
        checked_at: deps.clock.now().toISOString(),
        git,
        services: services ?? [],
      };
    },
  };
}

export type DriftService = ReturnType<typeof createDriftService>;
