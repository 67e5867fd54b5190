import {
  createDigestCache,
  createRegistryClient,
  type FetchLike,
  type ImageReference,
  PROJECT_LABEL,
  parseImageReference,
  parseRepoDigests,
  parseServiceImages,
  type RegistryLogin,
  registryHostOf,
  runningDigests,
  type ServiceImage,
} from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type CommandRunner,
  type Logger,
  type Redact,
  type SecretBox,
} from '@simpledeploy/core';
import {
  type Db,
  findStack,
  listStacks,
  type StackRow,
  type StoredUpdateCheck,
  updateStack,
} from '@simpledeploy/db';
import { type Deployer, decryptSecrets, registryLogins, rowRedactor } from '@simpledeploy/deployer';

/** One service in `GET /api/v1/stacks/{stack}/updates` (api.md "Image updates"). */
export type ImageUpdateService = StoredUpdateCheck['services'][number];

/** `GET /api/v1/stacks/{stack}/updates`. */
export interface ImageUpdateReport {
  checked_at: string;
  services: ImageUpdateService[];
}

export interface ImageUpdateDeps {
  db: Db;
  runner: CommandRunner;
  deployer: Deployer;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  /** The server-wide redactor; each stack's secrets are added on top. */
  redact: Redact;
  config: {
    childEnv: Record<string, string>;
    dockerBin?: string | undefined;
    /** How long a registry answer is reused across stacks. Default 60 s. */
    cacheTtlMs?: number | undefined;
  };
  /** The Docker CLI environment for a stack's engine (its host); the server's own by default. */
  engineEnv?: ((stack: StackRow) => Promise<Record<string, string>>) | undefined;
  /** Registry requests go through it; tests pass a fake. */
  fetch?: FetchLike | undefined;
  /**
   * Called once per newly seen update (a service whose tag moved to a digest not reported
   * before): the seam for the `update.available` notification.
   */
  onUpdateAvailable?: ((stack: StackRow, services: ImageUpdateService[]) => void) | undefined;
  /** Services with an update, across every stack: the `simpledeploy_image_updates_available` gauge. */
  setUpdatesAvailable?: ((count: number) => void) | undefined;
}

/** Registry digests remembered as auto-deployed, per stack, at most. */
const AUTO_DEPLOYED_KEPT = 50;

/**
 * Image update detection without pulling: for each service of a stack, the digest its
 * container's image was pulled as (`RepoDigests` of the image, for the image's own
 * repository) against the digest the registry has for the tag now (a HEAD on the
 * manifest, with the stack's registry login), each registry answer shared by every stack
 * asking within a short time. The last check is stored on the stack for its badge.
 */
export function createImageUpdateService(deps: ImageUpdateDeps) {
  const { db, runner, deployer, clock, logger, config } = deps;
  const docker = config.dockerBin ?? 'docker';
  const client = createRegistryClient({
    ...(deps.fetch ? { fetch: deps.fetch } : {}),
    now: () => clock.now().getTime(),
  });
  const cache = createDigestCache({
    lookup: (ref, login) => client.manifestDigest(ref, login),
    now: () => clock.now().getTime(),
    ttlMs: config.cacheTtlMs ?? 60_000,
  });
  const engineEnv = deps.engineEnv ?? (async () => config.childEnv);

  const engineError = (stack: StackRow, what: string, stderr: string) =>
    new AppError(
      'UNAVAILABLE',
      `cannot ${what} of ${stack.name}: the Docker engine did not answer`,
      {
        reason: stderr.trim().split('\n').slice(-2).join(' | ').slice(0, 500),
      },
    );

  /** Each service's running image and the digests it is known by, from the stack's engine. */
  async function running(stack: StackRow) {
    const env = await engineEnv(stack);
    const project = deployer.projectOf(stack);
    const ps = await runner.run(
      docker,
      ['ps', '-a', '-q', '--no-trunc', '--filter', `label=${PROJECT_LABEL}=${project}`],
      { env },
    );
    if (ps.exitCode !== 0) throw engineError(stack, 'list the containers', ps.stderr);
    const ids = ps.stdout.split('\n').filter((l) => l.trim());
    if (ids.length === 0) return [];
    const inspect = await runner.run(docker, ['inspect', ...ids], { env });
    // A container removed between ps and inspect makes inspect fail for it alone.
    if (inspect.exitCode !== 0 && !inspect.stdout.trim().startsWith('['))
      throw engineError(stack, 'inspect the containers', inspect.stderr);
    const services = parseServiceImages(inspect.stdout);
    const imageIds = [...new Set(services.map((s) => s.imageId))];
    if (imageIds.length === 0) return [];
    const images = await runner.run(docker, ['image', 'inspect', ...imageIds], { env });
    if (images.exitCode !== 0 && !images.stdout.trim().startsWith('['))
      throw engineError(stack, 'inspect the images', images.stderr);
    const digests = parseRepoDigests(images.stdout);
    return services.map((s) => ({ ...s, digests: digests.get(s.imageId) ?? [] }));
  }

  /** The stack's login for the registry an image lives in, if it has one. */
  function loginFor(stack: StackRow, ref: ImageReference): RegistryLogin | undefined {
    const logins = registryLogins(decryptSecrets(stack, deps.secrets).registries);
    const hit = logins.find((l) => registryHostOf(l.registry) === ref.registry);
    return hit ? { username: hit.username, password: hit.password } : undefined;
  }

  async function compare(
    stack: StackRow,
    s: ServiceImage & { digests: string[] },
    fresh: boolean,
    redact: Redact,
  ): Promise<ImageUpdateService> {
    const row = { service: s.service, image: s.image };
    let ref: ImageReference;
    try {
      ref = parseImageReference(s.image);
    } catch {
      return {
        ...row,
        running_digest: null,
        registry_digest: null,
        update_available: false,
        error: `"${s.image}" is not an image reference a registry can be asked about`,
      };
    }
    const have = runningDigests(s.image, s.digests);
    if (ref.digest) {
      // Pinned by digest: the tag cannot move under it.
      return {
        ...row,
        running_digest: ref.digest,
        registry_digest: ref.digest,
        update_available: false,
        error: null,
      };
    }
    if (have.length === 0) {
      return {
        ...row,
        running_digest: null,
        registry_digest: null,
        update_available: false,
        error:
          'the image was built or loaded on the host, not pulled from a registry: there is no digest to compare',
      };
    }
    try {
      const registry = await cache.digest(ref, loginFor(stack, ref), fresh ? 0 : undefined);
      return {
        ...row,
        running_digest: have.includes(registry) ? registry : (have[0] ?? null),
        registry_digest: registry,
        update_available: !have.includes(registry),
        error: null,
      };
    } catch (err) {
      return {
        ...row,
        running_digest: have[0] ?? null,
        registry_digest: null,
        update_available: false,
        error: redact(err instanceof Error ? err.message : 'asking the registry failed'),
      };
    }
  }

  /** Services with an update across every stack, from their stored checks. */
  function countAvailable(): number {
    let n = 0;
    for (const s of listStacks(db))
      n += s.updateCheck?.services.filter((x) => x.update_available).length ?? 0;
    return n;
  }

  /** Stores a check on the stack, tells about updates not reported before, feeds the gauge. */
  function record(stack: StackRow, report: ImageUpdateReport, autoDeployed: string[]) {
    const before = stack.updateCheck;
    const seen = new Set(
      (before?.services ?? [])
        .filter((s) => s.update_available)
        .map((s) => `${s.service}|${s.registry_digest}`),
    );
    updateStack(db, stack.id, { updateCheck: { ...report, auto_deployed: autoDeployed } });
    const count = (c: StoredUpdateCheck | null | undefined) =>
      c?.services.filter((s) => s.update_available).length ?? 0;
    if (!before || count(before) !== count(report))
      deployer.emit({ type: 'stack', stackId: stack.id });
    const fresh = report.services.filter(
      (s) => s.update_available && !seen.has(`${s.service}|${s.registry_digest}`),
    );
    if (fresh.length > 0) {
      logger.info('image update available', {
        stack: stack.name,
        services: fresh.map((s) => s.service),
      });
      try {
        deps.onUpdateAvailable?.(stack, fresh);
      } catch (error) {
        logger.warn('cannot publish the update.available notification', { error });
      }
    }
    deps.setUpdatesAvailable?.(countAvailable());
  }

  /**
   * With auto_update, deploys (trigger image_update, pull forced) for registry digests
   * not deployed for before: a deploy that failed or rolled back is not retried every
   * round, only when the tag moves again. Returns the digests now remembered.
   */
  function autoUpdate(stack: StackRow, report: ImageUpdateReport): string[] {
    const tried = stack.updateCheck?.auto_deployed ?? [];
    if (!stack.autoUpdate) return tried;
    const wanted = report.services
      .filter((s) => s.update_available && s.registry_digest)
      .map((s) => s.registry_digest as string)
      .filter((d) => !tried.includes(d));
    if (wanted.length === 0 || deployer.isBusy(stack.id)) return tried;
    // The deployed commit, not the branch head: only the images change.
    const res = deployer.deploy(stack.id, {
      trigger: 'image_update',
      force: true,
      ref: stack.repoUrl ? (stack.deployedCommit ?? undefined) : undefined,
    });
    logger.info('deploying newer images', {
      stack: stack.name,
      services: report.services.filter((s) => s.update_available).map((s) => s.service),
      deployment: res.deployment.id,
    });
    return [...tried, ...new Set(wanted)].slice(-AUTO_DEPLOYED_KEPT);
  }

  async function check(
    stack: StackRow,
    opts: { fresh?: boolean; deploy?: boolean } = {},
  ): Promise<ImageUpdateReport> {
    const redact = rowRedactor(stack, deps.secrets, deps.redact);
    const services = await running(stack);
    const rows = await Promise.all(
      services.map((s) => compare(stack, s, opts.fresh ?? false, redact)),
    );
    const report: ImageUpdateReport = { checked_at: clock.now().toISOString(), services: rows };
    // The row again: a deploy may have started (or the stack changed) while the registry was asked.
    const current = findStack(db, stack.id);
    if (!current) return report;
    const autoDeployed = opts.deploy
      ? autoUpdate(current, report)
      : (current.updateCheck?.auto_deployed ?? []);
    record(current, report, autoDeployed);
    return report;
  }

  return {
    /** Checks one stack now, asking the registry afresh (`GET .../updates`); never deploys. */
    report: (stackIdOrName: string) => check(deployer.requireStack(stackIdOrName), { fresh: true }),

    /**
     * A scheduled check: registry answers up to the cache's TTL are reused, and with
     * auto_update a newer image is deployed.
     */
    checkScheduled: (stack: StackRow) => check(stack, { deploy: true }),

    /** Re-reads the stack's running digests (after a deployment), reusing registry answers. */
    refresh: (stack: StackRow) => check(stack),

    /** Sets the gauge from the stored checks (at start-up). */
    publishCount: () => deps.setUpdatesAvailable?.(countAvailable()),
  };
}

export type ImageUpdates = ReturnType<typeof createImageUpdateService>;
