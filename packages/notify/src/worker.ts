import {
  type Clock,
  composeRedactors,
  createRedactor,
  type Logger,
  type Redact,
  type SecretBox,
  type TimerHandle,
} from '@simpledeploy/core';
import {
  claimNotificationDelivery,
  type Db,
  dueNotificationDeliveries,
  findNotifier,
  getNotificationDelivery,
  type NotificationDeliveryRow,
  nextNotificationDueAt,
  updateNotificationDelivery,
} from '@simpledeploy/db';
import type { NotificationMessage } from './message';
import { render } from './render';
import { notifierSecrets, targetOf } from './targets';
import type { Transport } from './transport';

export interface RetryPolicy {
  /** Attempts before a delivery is `failed`. */
  maxAttempts: number;
  /** The first retry's delay; each later one doubles, up to maxDelayMs. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** One attempt's time limit (connect, send, answer). */
  timeoutMs: number;
}

/** 20 attempts over about 3 to 6 hours: a receiver down for an afternoon still gets its messages. */
export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 20,
  baseDelayMs: 5_000,
  maxDelayMs: 30 * 60_000,
  timeoutMs: 10_000,
};

/**
 * Exponential backoff with jitter: after attempt n (1-based) wait between half and all
 * of base·2^(n-1), capped, so receivers coming back are not hit by every sender at once.
 */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (full / 2) * random());
}

export interface WorkerDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  secrets: SecretBox;
  transport: Transport;
  /** Error texts from receivers pass through it before they are stored or logged. */
  redact: Redact;
  retry: RetryPolicy;
  random: () => number;
}

/** How many deliveries one round sends side by side. */
const BATCH = 8;
/** The longest the worker sleeps without looking: cheap, and a safety net for a missed kick. */
const MAX_IDLE_MS = 60_000;

/**
 * Delivers the outbox: whatever is due, oldest first, then sleeps until the next due
 * time (or a kick from a new message). Started once the server is up; rows left pending
 * by a previous process are simply due.
 */
export function createDeliveryWorker(deps: WorkerDeps) {
  const { db, clock, logger, retry } = deps;
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let started = false;

  const iso = (ms: number) => new Date(ms).toISOString();

  /** One attempt at one delivery; the row says what came of it. */
  async function attempt(
    row: NotificationDeliveryRow,
  ): Promise<NotificationDeliveryRow | undefined> {
    const now = clock.now().getTime();
    // Claimed past the attempt's timeout: if the process dies mid-send, it is retried later.
    const lease = iso(now + retry.timeoutMs + 5_000);
    if (!claimNotificationDelivery(db, row.id, row.nextAttemptAt, lease)) return undefined;
    const notifier = findNotifier(db, row.notifierId);
    if (!notifier) return undefined;
    const attempts = row.attempts + 1;
    let result: Awaited<ReturnType<Transport['send']>>;
    // A transport's error may quote the URL, which is this notifier's credential.
    let redact = deps.redact;
    try {
      const target = targetOf(notifier, deps.secrets);
      redact = composeRedactors(createRedactor(notifierSecrets(target)), deps.redact);
      const out = render(target, row.payload as unknown as NotificationMessage, {
        deliveryId: row.id,
        timestamp: Math.floor(now / 1000),
      });
      result = await deps.transport.send(out, retry.timeoutMs);
    } catch (error) {
      result = {
        ok: false,
        status: null,
        error: error instanceof Error ? error.message : String(error),
        permanent: false,
      };
    }
    const done = clock.now().getTime();
    if (result.ok) {
      return updateNotificationDelivery(db, row.id, {
        status: 'delivered',
        attempts,
        responseStatus: result.status,
        lastError: null,
        deliveredAt: iso(done),
        nextAttemptAt: iso(done),
      });
    }
    const error = redact(result.error).slice(0, 500);
    const giveUp = result.permanent || attempts >= retry.maxAttempts;
    const delay = Math.max(
      backoffMs(attempts, retry, deps.random),
      Math.min(result.retryAfterMs ?? 0, retry.maxDelayMs),
    );
    const updated = updateNotificationDelivery(db, row.id, {
      status: giveUp ? 'failed' : 'pending',
      attempts,
      responseStatus: result.status,
      lastError: error,
      nextAttemptAt: iso(giveUp ? done : done + delay),
    });
    (giveUp ? logger.warn : logger.info).call(
      logger,
      giveUp ? 'a notification could not be delivered' : 'a notification will be retried',
      {
        notifier: notifier.name,
        delivery: row.id,
        attempts,
        error,
        ...(giveUp ? {} : { retry_in_ms: delay }),
      },
    );
    return updated;
  }

  async function round(): Promise<void> {
    for (;;) {
      const due = dueNotificationDeliveries(db, clock.now().toISOString(), BATCH);
      if (due.length === 0) return;
      await Promise.all(due.map((row) => attempt(row)));
      if (!started) return;
    }
  }

  function schedule(): void {
    if (!started) return;
    if (timer) clock.clearTimeout(timer);
    const next = nextNotificationDueAt(db);
    const wait = next === undefined ? MAX_IDLE_MS : Date.parse(next) - clock.now().getTime();
    timer = clock.setTimeout(() => kick(), Math.min(MAX_IDLE_MS, Math.max(0, wait)));
    (timer as { unref?: () => void }).unref?.();
  }

  /** Runs a round now, or right after the one in progress. */
  function kick(): void {
    if (!started) return;
    if (running) {
      again = true;
      return;
    }
    running = round()
      .catch((error) => logger.error('the notification worker failed a round', { error }))
      .finally(() => {
        running = undefined;
        if (again) {
          again = false;
          kick();
        } else schedule();
      });
  }

  return {
    start(): void {
      if (started) return;
      started = true;
      kick();
    },
    kick,
    /** One attempt now at a pending delivery (the test route), whatever its due time. */
    async deliverNow(id: string): Promise<NotificationDeliveryRow | undefined> {
      const row = getNotificationDelivery(db, id);
      return row?.status === 'pending' ? attempt(row) : undefined;
    },
    /** Stops scheduling and waits for the round in flight (bounded by the attempts' timeout). */
    async stop(): Promise<void> {
      started = false;
      if (timer) clock.clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}

export type DeliveryWorker = ReturnType<typeof createDeliveryWorker>;
