import type { DriftItem } from '@simpledeploy/compose';
import {
  type Clock,
  type Logger,
  type Metrics,
  type Notify,
  noopMetrics,
  type TimerHandle,
} from '@simpledeploy/core';
import { type Db, listDeployedUnreconciledStacks, type StackRow } from '@simpledeploy/db';
import { createDriftReports } from './drift-reports';

export interface CrashWatchDeps {
  db: Db;
  drift: { containerDrift(stack: StackRow): Promise<DriftItem[] | undefined> };
  clock: Clock;
  logger: Logger;
  notify?: Notify | undefined;
  metrics?: Metrics | undefined;
  /** Between two rounds over the stacks. */
  intervalMs: number;
}

/**
 * Crash loops of the stacks the reconciler does not look at (reconcile_interval_seconds
 * 0): every interval, each deployed compose stack's containers are checked and a new
 * crash loop is published as `drift.detected`, once while it lasts. Stacks that
 * reconcile are reported by the reconciler with the rest of their drift.
 */
export function createCrashWatch(deps: CrashWatchDeps) {
  const { clock, logger } = deps;
  const drift = createDriftReports({ metrics: deps.metrics ?? noopMetrics, notify: deps.notify });
  let timer: TimerHandle | undefined;
  let running: Promise<void> | undefined;
  let started = false;
  let stopped = false;

  async function check(stack: StackRow) {
    let items: DriftItem[] | undefined;
    try {
      items = await deps.drift.containerDrift(stack);
    } catch (error) {
      logger.debug('crash loop check failed', { stack: stack.name, error });
      return;
    }
    drift.report(
      stack,
      (items ?? []).filter((i) => i.type === 'crash_loop'),
    );
  }

  async function round() {
    // Only the rows it checks: not every stack's whole row each round.
    const stacks = listDeployedUnreconciledStacks(deps.db);
    const ids = new Set(stacks.map((s) => s.id));
    drift.keepOnly(ids);
    for (const stack of stacks) {
      if (stopped) return;
      await check(stack);
    }
  }

  function arm() {
    timer = clock.setTimeout(() => {
      running = round().finally(() => {
        running = undefined;
        if (started) arm();
      });
    }, deps.intervalMs);
  }

  return {
    start() {
      if (started) return;
      started = true;
      stopped = false;
      arm();
    },
    /** Stops scheduling and waits for a round in progress. */
    async stop() {
      started = false;
      stopped = true;
      if (timer) clock.clearTimeout(timer);
      await running;
    },
    /** One round now (tests). */
    round,
  };
}
