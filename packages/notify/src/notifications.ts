import { randomUUID } from 'node:crypto';
import type { Clock, Logger, Notify, Redact, SecretBox } from '@simpledeploy/core';
import { type Db, pruneNotificationDeliveries } from '@simpledeploy/db';
import { createNotifierService } from './notifier-service';
import { createPublisher } from './publisher';
import { httpTransport, type Transport } from './transport';
import { createDeliveryWorker, DEFAULT_RETRY, type RetryPolicy } from './worker';

export interface NotificationsDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  /** The server's redactor; it must cover every stack's secrets (the notifiers' own are added here). */
  redact: Redact;
  transport?: Transport;
  retry?: Partial<RetryPolicy>;
  /** Delivered and failed rows older than this are deleted. Default 7 days. */
  retentionMs?: number;
  /** At most this many delivered and failed rows are kept, newest first. Default 10 000. */
  keepDeliveries?: number;
  /** Ids by kind: `ntf` a notifier, `dlv` a delivery, `msg` a notification. */
  ids?: (prefix: IdPrefix) => string;
  random?: () => number;
}

const DAY = 24 * 60 * 60 * 1000;

export type IdPrefix = 'ntf' | 'dlv' | 'msg';

/** `<prefix>_<time><random>`: ids that sort by creation, so deliveries of one instant keep their order. */
export function timeOrderedIds(clock: Clock): (prefix: IdPrefix) => string {
  let counter = 0;
  return (prefix) => {
    counter = (counter + 1) % 1296;
    const time = clock.now().getTime().toString(36).padStart(9, '0');
    return `${prefix}_${time}${counter.toString(36).padStart(2, '0')}${randomUUID().replace(/-/g, '').slice(0, 10)}`;
  };
}

/**
 * Notifications as one object: `publish` (the Notify port other services call), the
 * notifier resource for the API, and the outbox worker with its pruning, started and
 * stopped by the server.
 */
export function createNotifications(deps: NotificationsDeps) {
  const ids = deps.ids ?? timeOrderedIds(deps.clock);
  const logger = deps.logger.child({ component: 'notify' });
  const retry = { ...DEFAULT_RETRY, ...deps.retry };
  const retentionMs = deps.retentionMs ?? 7 * DAY;
  const worker = createDeliveryWorker({
    db: deps.db,
    clock: deps.clock,
    logger,
    secrets: deps.secrets,
    transport: deps.transport ?? httpTransport,
    redact: deps.redact,
    retry,
    random: deps.random ?? Math.random,
  });
  const publisher = createPublisher({
    db: deps.db,
    clock: deps.clock,
    logger,
    secrets: deps.secrets,
    redact: deps.redact,
    ids,
    onQueued: () => worker.kick(),
  });
  const notifiers = createNotifierService({
    db: deps.db,
    clock: deps.clock,
    secrets: deps.secrets,
    ids,
    publisher,
    worker,
  });

  let pruning: NodeJS.Timeout | undefined;
  const prune = (): number => {
    try {
      const before = new Date(deps.clock.now().getTime() - retentionMs).toISOString();
      const n = pruneNotificationDeliveries(deps.db, before, deps.keepDeliveries ?? 10_000);
      if (n > 0) logger.info('pruned old notification deliveries', { deliveries: n });
      return n;
    } catch (error) {
      logger.warn('cannot prune notification deliveries', { error });
      return 0;
    }
  };

  const notify: Notify = { publish: (n) => publisher.publish(n) };

  return {
    notify,
    publish: notify.publish,
    notifiers,
    prune,
    /** Delivers what a previous run left pending, then whatever is published. */
    start(): void {
      prune();
      pruning = setInterval(prune, DAY);
      pruning.unref();
      worker.start();
    },
    async stop(): Promise<void> {
      clearInterval(pruning);
      await worker.stop();
    },
  };
}

export type Notifications = ReturnType<typeof createNotifications>;
