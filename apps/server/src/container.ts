import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { serve } from '@hono/node-server';
import { type AppDeps, type AppType, createApi, type HealthChecks } from '@simpledeploy/api';
import {
  type Clock,
  type CommandRunner,
  composeRedactors,
  createSecretBox,
  createSecretRegistry,
  isFinished,
  type Logger,
  type Notify,
  type Redact,
  type SecretRegistry,
} from '@simpledeploy/core';
import {
  type Checkpointer,
  createDb,
  type DbHandle,
  databaseAppError,
  type FileLock,
  findStack,
  listHosts,
  migrate,
  startCheckpointer,
} from '@simpledeploy/db';
import {
  createDeploymentRetention,
  createGitSourceResolver,
  createPromMetrics,
  createServices,
  createSourceResolver,
  type PromMetrics,
  type Services,
  trackStackSecrets,
} from '@simpledeploy/deployer';
import { createGitClient } from '@simpledeploy/git';
import {
  createCommitStatusReporter,
  createCrashWatch,
  createDriftService,
  createImageUpdateService,
  createReconciler,
  createUpdateScheduler,
  createWebhookService,
  ensureLegacyStack,
} from '@simpledeploy/gitops';
import { createNotifications, deploymentNotification } from '@simpledeploy/notify';
import { swaggerUiAssets } from './api-docs';
import type { ServerConfig } from './config';
import { lockDataDir, secureDataDir } from './data-dir';
import { createDockerProbes } from './docker-probes';
import { stopOrphanCompose } from './orphans';
import { findWebDir, mountWebUi } from './web-ui';

export interface ContainerOptions {
  logger: Logger;
  /** The server-wide redactor (API key, secret key): deploy logs pass through it too. */
  redact: Redact;
  clock: Clock;
  runner: CommandRunner;
  version: string;
  /** How long stop() lets open requests finish, once deployments are stopped, before closing their connections. Default 2 s. */
  shutdownGraceMs?: number;
  /** How long stop() waits for running deployments to wind down. Default 15 s. */
  deployShutdownMs?: number;
  /**
   * The data dir's lock when the caller took it first (main.ts does, before the key
   * files); otherwise buildContainer takes it. The container releases it in stop().
   */
  dataDirLock?: FileLock;
  /**
   * The registry the caller's log redactor reads (main.ts's): the container keeps every
   * stack's secrets in it, so they are decrypted once at start-up, not once per registry.
   * Default: a registry of its own.
   */
  secretRegistry?: SecretRegistry;
}

/** Every long-lived object of the server, built once; start() and stop() own their lifecycles. */
export interface Container {
  deps: AppDeps;
  app: AppType;
  db: DbHandle;
  services: Services;
  /**
   * The notification seam: `notify.publish({ event, stack?, host?, deployment?, message,
   * details? })` queues the message in the durable outbox of every notifier subscribed to
   * the event (and stack); synchronous, never throws, returns how many were queued.
   */
  notify: Notify;
  /**
   * The server's metrics (GET /metrics). Others feed its gauges:
   * `setImageUpdatesAvailable(count)`, `setHostUp(host, up)`, `removeHost(host)`.
   */
  metrics: PromMetrics;
  /** Recovers interrupted work, then listens on config.host:config.port; resolves with the bound address. */
  start(): Promise<AddressInfo>;
  /**
   * Stops accepting, interrupts running deployments, closes WebSockets, lets open
   * requests finish (up to the grace period), closes the database and releases the
   * data dir's lock. Idempotent.
   */
  stop(): Promise<void>;
}

export const databasePath = (config: Pick<ServerConfig, 'dataDir'>) =>
  join(config.dataDir, 'simpledeploy.db');

/**
 * Makes the data dir private, then opens and migrates SQLite; on failure nothing stays
 * open, the lock included.
 */
function openDataDir(dataDir: string, lock: FileLock, logger: Logger): DbHandle {
  let db: DbHandle | undefined;
  try {
    const notice = secureDataDir(dataDir);
    if (notice) {
      logger.warn('the data dir belongs to another user and is open to others: make it 0700', {
        ...notice,
      });
    }
    db = createDb(databasePath({ dataDir }));
    migrate(db.db);
    return db;
  } catch (error) {
    db?.close();
    lock.release();
    throw error;
  }
}

/**
 * The composition root's wiring: locks the data dir (DataDirBusyError when another
 * server has it) and makes it private, opens and migrates SQLite, builds the domain
 * services and the deps for the api, and the HTTP server. A new long-lived service is
 * built here, added to deps, started in start() and stopped in stop() before the database.
 */
export function buildContainer(config: ServerConfig, opts: ContainerOptions): Container {
  const { logger, clock, runner } = opts;
  // Before anything reads or changes the data dir: start() stops "orphan" compose processes.
  const lock = opts.dataDirLock ?? lockDataDir(config.dataDir);
  const db = openDataDir(config.dataDir, lock, logger);

  const secrets = createSecretBox(config.secretKey);
  // Notifications carry no secret of any stack: every stack's secrets in a registry kept in
  // step once the services exist (main.ts's, which its logger reads, when it passes one).
  const stackSecrets = opts.secretRegistry ?? createSecretRegistry();
  const notifications = createNotifications({
    db: db.db,
    clock,
    logger,
    secrets,
    redact: composeRedactors(stackSecrets.redact, opts.redact),
  });
  const notify = notifications.notify;
  // With the git CLI installed, checkouts are shallow, blobless and sparse (issue 14);
  // without it, isomorphic-git does them whole.
  const git = createGitClient({
    logger: logger.child({ component: 'git' }),
    cli: { runner, env: { PATH: config.childEnv.PATH ?? '/usr/bin:/bin' } },
  });
  // A registry of this server's own: tests run several servers in one process.
  const metrics = createPromMetrics({ version: opts.version });
  const services = createServices({
    metrics,
    db: db.db,
    runner,
    clock,
    logger,
    secrets,
    redact: opts.redact,
    sources: createSourceResolver(createGitSourceResolver(git)),
    config: {
      dataDir: config.dataDir,
      projectPrefix: config.projectPrefix,
      maxConcurrent: config.maxConcurrentDeploys,
      childEnv: config.childEnv,
      policy: { allowedHostPaths: config.allowedHostPaths, allowedRules: config.allowedRules },
    },
  });

  const untrackSecrets = trackStackSecrets({
    db: db.db,
    box: secrets,
    registry: stackSecrets,
    onChange: services.deployer.onChange,
    logger,
  });
  // deployment.succeeded / failed / rolled_back / canceled, as each deployment ends.
  const unwatchDeployments = services.deployer.onChange((e) => {
    if (e.type !== 'deployment' || !isFinished(e.deployment.status)) return;
    const stack = findStack(db.db, e.deployment.stack_id);
    const n = deploymentNotification(e.deployment, stack?.name ?? e.deployment.stack_id);
    if (n) notify.publish(n);
  });

  // Polling, drift and git webhooks (packages/gitops) over the same deployer.
  const gitopsDeps = { db: db.db, deployer: services.deployer, secrets, clock, logger, git };
  const drift = createDriftService({
    ...gitopsDeps,
    runner,
    config: { crashLoop: config.crashLoop },
  });
  const webhooks = createWebhookService({ ...gitopsDeps, metrics });
  const reconciler = createReconciler({
    ...gitopsDeps,
    metrics,
    drift,
    notify,
    logger: logger.child({ component: 'reconciler' }),
  });
  // Crash loops of stacks that do not reconcile still notify (drift.detected).
  const crashWatch = createCrashWatch({
    db: db.db,
    drift,
    clock,
    notify,
    metrics,
    logger: logger.child({ component: 'crash-watch' }),
    intervalMs: config.crashLoop.checkSeconds * 1000,
  });
  // Image updates: the registry's digest of each service's tag against the running one.
  const imageUpdates = createImageUpdateService({
    ...gitopsDeps,
    runner,
    redact: opts.redact,
    logger: logger.child({ component: 'image-updates' }),
    config: { childEnv: config.childEnv },
    engineEnv: (stack) => services.deployer.engineEnv(stack),
    onUpdateAvailable: (stack, list) =>
      notify.publish({
        event: 'update.available',
        stack: stack.name,
        message: `newer images for ${stack.name}: ${list.map((s) => `${s.service} (${s.image})`).join(', ')}`,
        details: {
          services: list.map((s) => ({
            service: s.service,
            image: s.image,
            running_digest: s.running_digest,
            registry_digest: s.registry_digest,
          })),
          auto_update: stack.autoUpdate,
        },
      }),
    setUpdatesAvailable: (count) => metrics.setImageUpdatesAvailable(count),
  });
  const updateScheduler = createUpdateScheduler({
    db: db.db,
    deployer: services.deployer,
    updates: imageUpdates,
    clock,
    logger: logger.child({ component: 'image-updates' }),
  });
  // Deployment statuses on the commits of git stacks (GitHub, Gitea/Forgejo, GitLab).
  const commitStatuses = createCommitStatusReporter({
    db: db.db,
    secrets,
    redact: opts.redact,
    logger: logger.child({ component: 'commit-status' }),
    deployer: services.deployer,
    publicUrl: config.publicUrl,
  });

  const health: HealthChecks = {
    async database() {
      try {
        // A read of the file (not `select 1`, which never opens it); never a write, so it
        // answers while another process holds the write lock.
        db.sqlite.prepare('select count(*) from sqlite_schema').get();
        return { ok: true };
      } catch (error) {
        logger.warn('database health check failed', { error });
        return { ok: false, error: 'the SQLite database does not answer' };
      }
    },
    ...createDockerProbes({ runner, clock, env: config.childEnv }),
    hosts: () =>
      listHosts(db.db).map((h) => ({
        name: h.name,
        reachable: h.reachable,
        swarm: h.swarmState,
        last_checked_at: h.lastCheckedAt,
        error: h.error,
      })),
  };
  // A host that stops answering is news: host_up goes to 0 and subscribers hear of it once.
  services.hostHealth.onChecked((h, before) => {
    if (h.id !== 'local') metrics.setHostUp(h.name, h.reachable === true);
    if (h.reachable === false && before.reachable !== false)
      notify.publish({
        event: 'host.unreachable',
        host: h.name,
        message: `host ${h.name} (${h.dockerHost ?? 'local engine'}) is unreachable: ${h.error ?? 'no answer'}`,
      });
  });
  // host_up{host="local"} comes from the same (cached) engine probe as /health, on each scrape.
  const scrape = {
    contentType: metrics.contentType,
    async render() {
      const engine = await health.docker().catch(() => ({ ok: false }));
      metrics.setHostUp('local', engine.ok);
      return metrics.render();
    },
  };

  const deps: AppDeps = {
    apiKey: config.apiKey,
    logger,
    version: opts.version,
    health,
    metrics: scrape,
    domain: {
      ...services,
      gitops: { drift, webhooks, updates: imageUpdates },
      notifiers: notifications.notifiers,
    },
    clock,
    redact: opts.redact,
    translateError: databaseAppError,
    docsAssets: swaggerUiAssets(),
  };
  const api = createApi(deps);
  const webDir = findWebDir(config.webDir);
  if (webDir) mountWebUi(api.app, webDir);
  else logger.warn('the web UI is not built (pnpm build), so / serves nothing; the API works', {});

  // The audit log keeps config.auditRetentionDays of entries: pruned at start-up and daily.
  const pruneAudit = () => {
    try {
      const pruned = services.audit.prune(config.auditRetentionDays);
      if (pruned > 0)
        logger.info('pruned the audit log', {
          entries: pruned,
          retention_days: config.auditRetentionDays,
        });
    } catch (error) {
      logger.warn('cannot prune the audit log', { error });
    }
  };
  let auditPruning: NodeJS.Timeout | undefined;
  let checkpointer: Checkpointer | undefined;
  // Deployments and their logs past retention go once the server listens, then every 6 hours.
  const retention = createDeploymentRetention(
    { db: db.db, clock, logger },
    { days: config.deploymentRetentionDays, keepPerStack: config.deploymentKeepPerStack },
  );

  let server: Server | undefined;
  let stopping: Promise<void> | undefined;

  return {
    deps,
    app: api.app,
    db,
    services,
    notify,
    metrics,
    async start() {
      // The WAL is copied into the database file by a worker thread, not by the commits
      // of the thread that serves requests.
      checkpointer = startCheckpointer(db.sqlite, {
        path: databasePath(config),
        onError: (error) =>
          logger.warn('the checkpoint worker failed: commits checkpoint the WAL again', { error }),
      });
      // A crashed run may have left compose working for deployments about to be marked interrupted.
      await stopOrphanCompose(config.dataDir, logger);
      commitStatuses.start();
      services.deployer.recoverInterrupted();
      // Registry logins a killed server left in its session files go now.
      await services.deployer.clearSessions();
      try {
        await ensureLegacyStack({ stacks: services.stacks, logger }, config.legacyRepo);
      } catch (error) {
        // A bad legacy setting must not keep the API down: the stack can be fixed through it.
        logger.error('legacy mode: cannot create the stack "default" from REPO_URL', { error });
      }
      reconciler.start();
      crashWatch.start();
      updateScheduler.start();
      services.hostHealth.start(config.hostCheckIntervalSeconds * 1000);
      // Deliveries a previous run left pending go out now.
      notifications.start();
      pruneAudit();
      auditPruning = setInterval(pruneAudit, 24 * 60 * 60 * 1000);
      auditPruning.unref();
      return new Promise((resolve, reject) => {
        const s = serve({
          fetch: api.app.fetch,
          hostname: config.host,
          port: config.port,
        }) as Server;
        server = s;
        api.injectWebSocket(s);
        s.once('error', reject);
        s.once('listening', () => {
          s.off('error', reject);
          s.on('error', (error) => logger.error('HTTP server error', { error }));
          retention.start();
          resolve(s.address() as AddressInfo);
        });
      });
    },
    stop() {
      stopping ??= (async () => {
        const s = server;
        // Stop accepting now; the callback runs once every connection has ended.
        const closed = new Promise<void>((resolve) => (s ? s.close(() => resolve()) : resolve()));
        // Keep-alive sockets with no request in flight would hold close() open.
        s?.closeIdleConnections();
        // No new polls or drift repairs while deployments wind down.
        await reconciler.stop();
        await crashWatch.stop();
        await updateScheduler.stop();
        services.hostHealth.stop();
        clearInterval(auditPruning);
        await retention.stop();
        // Running deployments end as interrupted, which also ends `?wait=true` requests.
        await services.deployer.shutdown(opts.deployShutdownMs ?? 15_000);
        await services.connections.close();
        // The end statuses of the deployments just interrupted go out (bounded).
        await commitStatuses.stop();
        // Pending deliveries stay in the outbox for the next start.
        unwatchDeployments();
        untrackSecrets();
        await notifications.stop();
        // Upgraded sockets are not the HTTP server's to close: say "going away" to each.
        for (const ws of api.wss.clients) ws.close(1001, 'server shutting down');
        // Event streams and log follows never end by themselves: close what remains after the grace.
        const grace = setTimeout(() => s?.closeAllConnections(), opts.shutdownGraceMs ?? 2_000);
        await closed;
        clearTimeout(grace);
        await checkpointer?.stop();
        db.close();
        lock.release();
      })();
      return stopping;
    },
  };
}
