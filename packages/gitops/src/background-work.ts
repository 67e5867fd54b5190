/**
 * Background work of a scheduler: at most `maxConcurrent` tasks at once (the rest wait
 * their turn, first come first served), and every task tracked so stop() can wait for
 * them, bounded.
 */
export function createBackgroundWork(maxConcurrent: number) {
  const inFlight = new Set<Promise<unknown>>();
  const waiting: (() => void)[] = [];
  let active = 0;

  return {
    /** Runs fn once a slot is free. */
    async slot<T>(fn: () => Promise<T>): Promise<T> {
      if (active >= maxConcurrent) await new Promise<void>((r) => waiting.push(r));
      active++;
      try {
        return await fn();
      } finally {
        active--;
        waiting.shift()?.();
      }
    },

    /** Tasks running or waiting for a slot. */
    pending(): number {
      return active + waiting.length;
    },

    /** Keeps a task until it settles, for settle(). */
    track(p: Promise<unknown>): void {
      inFlight.add(p);
      void p.finally(() => inFlight.delete(p)).catch(() => {});
    },

    /** Resolves once every tracked task has settled, or after timeoutMs. */
    async settle(timeoutMs: number): Promise<void> {
      await Promise.race([
        Promise.allSettled([...inFlight]),
        new Promise((r) => setTimeout(r, timeoutMs).unref()),
      ]);
    },
  };
}
