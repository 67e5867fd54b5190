import type { Clock, DeploymentStatus, Logger } from '@simpledeploy/core';
import { type Db, type DeploymentRow, getDeployment, updateDeployment } from '@simpledeploy/db';
import pLimit from 'p-limit';
import type { ChangeBus } from './change-bus';
import type { LogBus } from './log-bus';
import { type DeploymentView, toDeploymentView } from './views';

/** Why a running deployment was aborted. */
export type AbortReason = 'cancel' | 'timeout' | 'shutdown';

export interface DeployQueueDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  logs: LogBus;
  changes: ChangeBus;
  maxConcurrent: number;
  /** A host's own cap on deployments at once (null: only the global cap). */
  hostCap?: (hostId: string) => number | null | undefined;
  /** Lines kept in the stored log of one deployment. */
  maxStoredLines: number;
}

/**
 * Who runs when: one chain of tasks per stack (deployments and control commands, never two
 * at once for a stack), a global cap on concurrent deployments, the abort controller of
 * each running deployment, and the callers waiting for one to end.
 */
export function createDeployQueue(deps: DeployQueueDeps) {
  const { db, clock, logger, logs, changes } = deps;
  const limit = pLimit(deps.maxConcurrent);
  /** Per host with a cap of its own; a deployment waits for its host first, then the global cap. */
  const hostLimits = new Map<string, { cap: number; limit: ReturnType<typeof pLimit> }>();
  function hostLimit(hostId: string | null) {
    let cap: number | null | undefined;
    try {
      cap = hostId ? deps.hostCap?.(hostId) : undefined;
    } catch {
      cap = undefined; // a deleted host: the pipeline fails the deployment with a clear error
    }
    if (!hostId || !cap) return (fn: () => Promise<void>) => fn();
    let h = hostLimits.get(hostId);
    if (h?.cap !== cap) {
      h = { cap, limit: pLimit(cap) };
      hostLimits.set(hostId, h);
    }
    return h.limit;
  }
  /** Per stack, the tail of its chain of deployments and control commands. */
  const chains = new Map<string, Promise<void>>();
  const active = new Map<string, { stackId: string; controller: AbortController }>();
  const waiters = new Map<string, ((d: DeploymentView) => void)[]>();
  let closing = false;

  /** Runs fn after everything already chained for the stack; never rejects the chain. */
  function chain(stackId: string, fn: () => Promise<void>): Promise<void> {
    const prev = chains.get(stackId) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => {
      logger.error('stack task failed unexpectedly', { stackId, err });
    });
    chains.set(stackId, next);
    void next.then(() => {
      if (chains.get(stackId) === next) chains.delete(stackId);
    });
    return next;
  }

  return {
    chain,

    /** Queues a deployment behind its stack's chain and under the global cap. */
    schedule(dep: DeploymentRow, execute: (id: string) => Promise<void>) {
      logs.open(dep.id);
      // Waiting on a busy host does not hold one of the global slots.
      void chain(dep.stackId, () => hostLimit(dep.hostId)(() => limit(() => execute(dep.id))));
    },

    /** Ends a deployment: its status, duration and stored log, then tells who waits. */
    finish(id: string, status: DeploymentStatus, patch: Partial<DeploymentRow> = {}) {
      const row = getDeployment(db, id);
      const finishedAt = clock.now().toISOString();
      const started = row?.startedAt ? Date.parse(row.startedAt) : undefined;
      const lines = logs.lines(id) ?? [];
      const updated = updateDeployment(db, id, {
        status,
        finishedAt,
        durationMs: started !== undefined ? Date.parse(finishedAt) - started : null,
        log: lines.slice(-deps.maxStoredLines),
        ...patch,
      });
      logs.end(id, status);
      if (updated) {
        const view = toDeploymentView(updated);
        changes.emit({ type: 'deployment', deployment: view });
        for (const w of waiters.get(id) ?? []) w(view);
      }
      waiters.delete(id);
    },

    /** A controller for a deployment that starts running, aborted by cancel, timeout or shutdown. */
    start(id: string, stackId: string): AbortController {
      const controller = new AbortController();
      active.set(id, { stackId, controller });
      return controller;
    },
    done(id: string) {
      active.delete(id);
    },
    /** Aborts a running deployment; false when it is not running in this process. */
    abort(id: string, reason: AbortReason): boolean {
      const a = active.get(id);
      if (!a) return false;
      a.controller.abort(reason);
      return true;
    },

    /** Resolves with the deployment's view when it ends. */
    wait(id: string): Promise<DeploymentView> {
      return new Promise((resolve) => {
        const list = waiters.get(id) ?? [];
        list.push(resolve);
        waiters.set(id, list);
      });
    },

    get closing() {
      return closing;
    },

    /** From now on, nothing queued starts and nothing new is queued. */
    stopTaking() {
      closing = true;
    },

    /** Aborts what runs and waits (bounded) for the chains to settle. */
    async drain(timeoutMs: number): Promise<void> {
      for (const a of active.values()) a.controller.abort('shutdown' satisfies AbortReason);
      const all = Promise.allSettled([...chains.values()]);
      await Promise.race([all, new Promise((r) => setTimeout(r, timeoutMs).unref())]);
    },
  };
}

export type DeployQueue = ReturnType<typeof createDeployQueue>;
