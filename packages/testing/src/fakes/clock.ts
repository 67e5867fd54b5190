import type { Clock, TimerHandle } from '@simpledeploy/core';

interface Timer {
  id: number;
  at: number;
  fn: () => void;
}

/** A clock that only moves when the test says so; timers fire in order as it advances. */
export function createFakeClock(start = Date.parse('2026-01-01T00:00:00.000Z')) {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, Timer>();

  const clock: Clock & {
    advance(ms: number): Promise<void>;
    pending(): number;
    set(ms: number): void;
  } = {
    now: () => new Date(now),
    setTimeout(fn, ms) {
      const t = { id: nextId++, at: now + Math.max(0, ms), fn };
      timers.set(t.id, t);
      return { id: t.id } as unknown as TimerHandle;
    },
    clearTimeout(h) {
      timers.delete((h as unknown as { id: number }).id);
    },
    /** Moves time forward, firing due timers and letting promises settle between them. */
    async advance(ms) {
      const target = now + ms;
      for (;;) {
        const due = [...timers.values()]
          .filter((t) => t.at <= target)
          .sort((a, b) => a.at - b.at || a.id - b.id)[0];
        if (!due) break;
        timers.delete(due.id);
        now = due.at;
        due.fn();
        await flush();
      }
      now = target;
      await flush();
    },
    pending: () => timers.size,
    set(ms) {
      now = ms;
    },
  };
  return clock;
}

/** Lets pending promise callbacks and I/O run. */
export const flush = () => new Promise<void>((r) => setImmediate(r));

export type FakeClock = ReturnType<typeof createFakeClock>;
