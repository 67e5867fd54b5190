import type { ActualContainer, DriftItem } from '@simpledeploy/compose';
import { describe, expect, it } from 'vitest';
import { createCrashLoopWatch } from './crash-loops';

const T0 = Date.parse('2026-11-30T10:00:00Z');
const clockAt = () => {
  let now = T0;
  return { now: () => new Date(now), advance: (ms: number) => (now += ms) };
};
const container = (over: Partial<ActualContainer>): ActualContainer => ({
  name: 'p-web-1',
  service: 'web',
  image: 'img',
  state: 'restarting',
  exitCode: 1,
  health: '',
  restartCount: 0,
  createdAt: new Date(T0 - 60_000).toISOString(),
  ...over,
});

describe('createCrashLoopWatch', () => {
  it('calls a new container restarting more than N times a crash loop, replacing its stopped item', () => {
    const clock = clockAt();
    const watch = createCrashLoopWatch(clock, { restarts: 3, windowMinutes: 10 });
    const stopped: DriftItem = {
      service: 'web',
      container: 'p-web-1',
      type: 'stopped',
      expected: 'running',
      actual: 'exited (1)',
    };
    expect(watch.judge([container({ restartCount: 3 })], [stopped])).toEqual([stopped]);
    const items = watch.judge([container({ restartCount: 4, state: 'exited' })], [stopped]);
    expect(items).toEqual([
      {
        service: 'web',
        container: 'p-web-1',
        type: 'crash_loop',
        expected: 'at most 3 restarts in 10 minutes',
        actual: 'restarted 4 times in the last 10 minutes (exited)',
      },
    ]);
  });

  it('counts only restarts inside the window for an old container', () => {
    const clock = clockAt();
    const watch = createCrashLoopWatch(clock, { restarts: 3, windowMinutes: 10 });
    const old = { createdAt: new Date(T0 - 24 * 3600_000).toISOString() };
    // 50 restarts last week: no history in the window, so no crash loop.
    expect(watch.judge([container({ ...old, restartCount: 50 })], [])).toEqual([]);
    clock.advance(5 * 60_000);
    expect(watch.judge([container({ ...old, restartCount: 53 })], [])).toEqual([]);
    clock.advance(60_000);
    expect(watch.judge([container({ ...old, restartCount: 54 })], [])[0]?.type).toBe('crash_loop');
    // Quiet for longer than the window: the old restarts fall out of it.
    clock.advance(11 * 60_000);
    expect(watch.judge([container({ ...old, restartCount: 54 })], [])).toEqual([]);
  });
});
