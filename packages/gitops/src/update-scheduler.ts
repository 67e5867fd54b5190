import type { Clock, Logger, TimerHandle } from '@simpledeploy/core';
import {
  type Db,
  findStack,
  listStackSchedules,
  type StackRow,
  type StackSchedule,
} from '@simpledeploy/db';
import type { Deployer } from '@simpledeploy/deployer';
import { createBackgroundWork } from './background-work';
import type { ImageUpdateReport } from './image-updates';

export interface UpdateSchedulerDeps {
  db: Db;
  deployer: Pick<Deployer, 'onChange'>;
  updates: {
    checkScheduled(stack: StackRow): Promise<ImageUpdateReport>;
    refresh(stack: StackRow): Promise<ImageUpdateReport>;
    publishCount(): void;
  };
  clock: Clock;
  logger: Logger;
  /** Random number in [0, 1), for jitter; injectable for tests. */
  random?: () => number;
  /** Stacks checked at the same time, at most. Default 4. */
  maxConcurrent?: number;
  /** How often the schedule is re-read from the database besides change events. Default 60 s. */
  resyncMs?: number;
}

/** A failing check waits interval × 2^failures, at most this many intervals. */
export const MAX_UPDATE_BACKOFF_INTERVALS = 16;
/**
 * The most a check is moved off its round: below the registry cache's TTL (60 s), so
 * the stacks of one round still share each image's answer.
 */
export const MAX_UPDATE_JITTER_MS = 30_000;

/** Deployment ends after which the containers may run other images. */
const ENDED = new Set(['succeeded', 'rolled_back', 'failed']);

interface Schedule {
  intervalMs: number;
  timer: TimerHandle | undefined;
  failures: number;
}

/**
 * Runs each stack's image update check on its own interval (update_check_interval_seconds).
 * Checks fall on rounds: multiples of the interval since the epoch, plus a jitter of at
 * most 10 % of the interval and MAX_UPDATE_JITTER_MS, so stacks with the same interval
 * check together and the per-image registry cache makes one request per image per round.
 * A check that fails (engine or registry) backs off exponentially. After a deployment
 * ends, a stack that was checked before is checked again, so its badge shows what runs.
 */
export function createUpdateScheduler(deps: UpdateSchedulerDeps) {
  const { db, clock, logger } = deps;
  const random = deps.random ?? Math.random;
  const maxConcurrent = deps.maxConcurrent ?? 4;
  const schedules = new Map<string, Schedule>();
  const work = createBackgroundWork(maxConcurrent);
  const { slot, track } = work;
  let started = false;
  let unsubscribe: (() => void) | undefined;
  let resyncTimer: TimerHandle | undefined;

  /** Delay to the round `multiple` intervals ahead of the next one, with its jitter. */
  function delayToRound(intervalMs: number, multiple: number): number {
    const now = clock.now().getTime();
    const round = (Math.floor(now / intervalMs) + multiple) * intervalMs;
    const jitter = random() * Math.min(intervalMs * 0.1, MAX_UPDATE_JITTER_MS);
    return Math.max(0, Math.round(round - now + jitter));
  }

  function arm(stackId: string, s: Schedule) {
    if (s.timer) clock.clearTimeout(s.timer);
    const backoff = Math.min(2 ** s.failures, MAX_UPDATE_BACKOFF_INTERVALS);
    s.timer = clock.setTimeout(
      () => {
        s.timer = undefined;
        track(tick(stackId, s));
      },
      delayToRound(s.intervalMs, backoff),
    );
  }

  async function tick(stackId: string, s: Schedule): Promise<void> {
    try {
      await slot(async () => {
        const stack = findStack(db, stackId);
        if (!stack || stack.updateCheckIntervalSeconds <= 0) return;
        const report = await deps.updates.checkScheduled(stack);
        // The registry did not answer for an image it should know (not a locally built one).
        const failed = report.services.some(
          (x) => x.error && x.running_digest !== null && x.registry_digest === null,
        );
        s.failures = failed ? s.failures + 1 : 0;
      });
    } catch (error) {
      s.failures++;
      logger.warn('image update check failed', { stackId, failures: s.failures, error });
    } finally {
      // Only the current schedule re-arms: a stack updated or deleted meanwhile has a new one or none.
      if (started && schedules.get(stackId) === s) arm(stackId, s);
    }
  }

  /** Schedules one stack as its row says (a new schedule when its interval changed). */
  function schedule(row: StackSchedule) {
    const intervalMs = row.updateCheckIntervalSeconds * 1000;
    const s = schedules.get(row.id);
    if (s && s.intervalMs === intervalMs) return;
    if (s?.timer) clock.clearTimeout(s.timer);
    const next: Schedule = { intervalMs, timer: undefined, failures: 0 };
    schedules.set(row.id, next);
    arm(row.id, next);
  }

  function unschedule(id: string) {
    const s = schedules.get(id);
    if (s?.timer) clock.clearTimeout(s.timer);
    schedules.delete(id);
  }

  /** Re-reads which stacks are checked and how often. */
  function sync() {
    if (!started) return;
    const seen = new Set<string>();
    for (const row of listStackSchedules(db)) {
      if (row.updateCheckIntervalSeconds <= 0) continue;
      seen.add(row.id);
      schedule(row);
    }
    for (const id of [...schedules.keys()]) if (!seen.has(id)) unschedule(id);
  }

  /**
   * One stack changed: only its row is read again. Every poll that finds a new commit
   * emits a change, and re-reading every stack for each was half the server's CPU in the
   * first polling round over 1000 stacks (a profile of the bundled server).
   */
  function syncOne(stackId: string) {
    if (!started) return;
    const row = findStack(db, stackId);
    if (row && row.updateCheckIntervalSeconds > 0) schedule(row);
    else unschedule(stackId);
  }

  function refreshAfterDeploy(stackId: string) {
    const stack = findStack(db, stackId);
    if (!stack?.updateCheck) return;
    track(
      slot(() => deps.updates.refresh(stack)).then(
        () => {},
        (error: unknown) => logger.debug('update re-check after a deployment failed', { error }),
      ),
    );
  }

  return {
    start() {
      if (started) return;
      started = true;
      unsubscribe = deps.deployer.onChange((e) => {
        if (e.type === 'stack') syncOne(e.stackId);
        else if (e.type === 'deployment' && ENDED.has(e.deployment.status))
          refreshAfterDeploy(e.deployment.stack_id);
      });
      try {
        deps.updates.publishCount();
      } catch (error) {
        logger.warn('cannot count the image updates available', { error });
      }
      const resync = () => {
        sync();
        resyncTimer = clock.setTimeout(resync, deps.resyncMs ?? 60_000);
      };
      resync();
    },

    /** Stops scheduling and waits (bounded) for checks in progress. */
    async stop(timeoutMs = 10_000) {
      started = false;
      unsubscribe?.();
      if (resyncTimer) clock.clearTimeout(resyncTimer);
      for (const s of schedules.values()) if (s.timer) clock.clearTimeout(s.timer);
      schedules.clear();
      await work.settle(timeoutMs);
    },

    /** When each scheduled stack is checked next (status output and tests). */
    scheduled(): { stackId: string; intervalMs: number; failures: number }[] {
      return [...schedules].map(([stackId, s]) => ({
        stackId,
        intervalMs: s.intervalMs,
        failures: s.failures,
      }));
    },
  };
}

export type UpdateScheduler = ReturnType<typeof createUpdateScheduler>;
