import type { ActualContainer, DriftItem } from '@simpledeploy/compose';
import type { Clock } from '@simpledeploy/core';

/** A container restarting more than `restarts` times within `windowMinutes` is crash-looping. */
export interface CrashLoopPolicy {
  restarts: number;
  windowMinutes: number;
}

export const DEFAULT_CRASH_LOOP: CrashLoopPolicy = { restarts: 5, windowMinutes: 10 };

interface Sample {
  at: number;
  count: number;
}

/**
 * Tells crash loops from restarts long ago. The engine keeps only a total (RestartCount),
 * so each check remembers what it saw per container: restarts in the window are the
 * count now minus the count at the oldest check inside it. A container created inside
 * the window needs no history: all its restarts are recent.
 */
export function createCrashLoopWatch(clock: Pick<Clock, 'now'>, policy = DEFAULT_CRASH_LOOP) {
  const windowMs = policy.windowMinutes * 60_000;
  // By container name and creation time: a recreated container starts over.
  const seen = new Map<string, Sample[]>();

  function restartsInWindow(c: ActualContainer, now: number): number {
    const count = c.restartCount ?? 0;
    const key = `${c.name}@${c.createdAt ?? ''}`;
    const samples = (seen.get(key) ?? []).filter((s) => s.at >= now - windowMs);
    samples.push({ at: now, count });
    seen.set(key, samples);
    const created = c.createdAt ? Date.parse(c.createdAt) : Number.NaN;
    if (!Number.isNaN(created) && created >= now - windowMs) return count;
    return count - (samples[0]?.count ?? count);
  }

  return {
    policy,
    /**
     * The crash loops among a stack's containers, and the drift items that they explain
     * (the same container `stopped` or `unhealthy`) replaced by one `crash_loop` each.
     */
    judge(containers: readonly ActualContainer[], items: DriftItem[]): DriftItem[] {
      const now = clock.now().getTime();
      const loops = new Map<string, DriftItem>();
      for (const c of containers) {
        const n = restartsInWindow(c, now);
        if (n <= policy.restarts) continue;
        loops.set(c.name, {
          service: c.service,
          container: c.name,
          type: 'crash_loop',
          expected: `at most ${policy.restarts} restarts in ${policy.windowMinutes} minutes`,
          actual: `restarted ${n} times in the last ${policy.windowMinutes} minutes (${c.state})`,
        });
      }
      if (loops.size === 0) return items;
      const explained = (i: DriftItem) =>
        i.container !== undefined &&
        loops.has(i.container) &&
        (i.type === 'stopped' || i.type === 'unhealthy');
      return [...items.filter((i) => !explained(i)), ...loops.values()];
    },
    /** Forgets containers not seen for a window (removed ones). */
    prune() {
      const cutoff = clock.now().getTime() - windowMs;
      for (const [key, samples] of seen) {
        if ((samples.at(-1)?.at ?? 0) < cutoff) seen.delete(key);
      }
    },
  };
}

export type CrashLoopWatch = ReturnType<typeof createCrashLoopWatch>;
