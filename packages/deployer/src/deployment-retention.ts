import type { Clock, Logger } from '@simpledeploy/core';
import {
  type Db,
  deleteDeployments,
  deploymentsPastRetention,
  pruneWebhookDeliveries,
} from '@simpledeploy/db';

const DAY_MS = 24 * 60 * 60 * 1000;
/** Deletions per statement: between two, the event loop answers requests. */
const BATCH = 500;
/** How long a webhook delivery id is remembered (a redelivery within it is answered as a duplicate). */
export const WEBHOOK_DELIVERY_DAYS = 30;

export interface DeploymentRetentionConfig {
  /** Finished deployments older than this many days go; 0: no age limit. */
  days: number;
  /** A stack keeps at most this many deployments; 0: no count limit. */
  keepPerStack: number;
  /** How often the pruning runs (default every 6 hours); the first run is right after start. */
  everyMs?: number;
}

/**
 * Keeps the deployment history bounded: deletes deployments (and their stored logs) past
 * the retention days or past a stack's newest N, keeping each stack's latest deployment,
 * its last succeeded one and its current version's, and forgets old webhook delivery ids.
 * Runs after the server listens and then periodically, in batches.
 */
export function createDeploymentRetention(
  deps: { db: Db; clock: Clock; logger: Logger },
  config: DeploymentRetentionConfig,
) {
  const { db, clock, logger } = deps;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;

  async function prune(): Promise<{ deployments: number; deliveries: number }> {
    const now = clock.now().getTime();
    const ids = deploymentsPastRetention(db, {
      before: config.days > 0 ? new Date(now - config.days * DAY_MS).toISOString() : undefined,
      keepPerStack: config.keepPerStack,
    });
    let deployments = 0;
    for (let i = 0; i < ids.length; i += BATCH) {
      deployments += deleteDeployments(db, ids.slice(i, i + BATCH));
      if (i + BATCH < ids.length) await new Promise((r) => setImmediate(r));
    }
    const deliveries = pruneWebhookDeliveries(
      db,
      new Date(now - WEBHOOK_DELIVERY_DAYS * DAY_MS).toISOString(),
    );
    return { deployments, deliveries };
  }

  const runLogged = () => {
    running ??= prune()
      .then(
        (n) => {
          if (n.deployments || n.deliveries)
            logger.info('pruned the deployment history', {
              deployments: n.deployments,
              webhook_deliveries: n.deliveries,
              retention_days: config.days,
              keep_per_stack: config.keepPerStack,
            });
        },
        (error: unknown) => logger.warn('cannot prune the deployment history', { error }),
      )
      .finally(() => {
        running = undefined;
      });
    return running;
  };

  return {
    prune,
    /** Prunes now (in the background) and every `everyMs`. */
    start() {
      if (timer) return;
      void runLogged();
      timer = setInterval(runLogged, config.everyMs ?? 6 * 60 * 60 * 1000);
      timer.unref();
    },
    /** Stops the schedule and waits for a run in progress. */
    async stop() {
      clearInterval(timer);
      timer = undefined;
      await running;
    },
  };
}

export type DeploymentRetention = ReturnType<typeof createDeploymentRetention>;
