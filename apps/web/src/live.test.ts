import { describe, expect, it } from 'vitest';
import { LiveChannel, type LiveEvent, type LiveMode } from './live';

class FakeSocket {
  onopen: ((ev: unknown) => void) | null = null;
  onmessage: ((ev: { data: unknown }) => void) | null = null;
  onclose: ((ev: unknown) => void) | null = null;
  onerror: ((ev: unknown) => void) | null = null;
  closed = false;
  constructor(readonly url: string) {}
  close() {
    this.closed = true;
  }
}

function fakeTimers() {
  let now = 0;
  const clockNow = () => now;
  let next = 1;
  const jobs = new Map<number, { at: number; fn: () => void; every?: number }>();
  return {
    now: clockNow,
    timers: {
      setTimeout: (fn: () => void, ms: number) => {
        jobs.set(next, { at: now + ms, fn });
        return next++;
      },
      clearTimeout: (id: unknown) => jobs.delete(id as number),
      setInterval: (fn: () => void, ms: number) => {
        jobs.set(next, { at: now + ms, fn, every: ms });
        return next++;
      },
      clearInterval: (id: unknown) => jobs.delete(id as number),
    },
    advance(ms: number) {
      const end = now + ms;
      for (;;) {
        const due = [...jobs.entries()]
          .filter(([, j]) => j.at <= end)
          .sort((a, b) => a[1].at - b[1].at)[0];
        if (!due) break;
        const [id, job] = due;
        now = job.at;
        if (job.every) job.at += job.every;
        else jobs.delete(id);
        job.fn();
      }
      now = end;
    },
  };
}

function setup() {
  const sockets: FakeSocket[] = [];
  const clock = fakeTimers();
  const ch = new LiveChannel({
    url: 'ws://x/api/v1/events/ws?token=k',
    createSocket: (url) => {
      const s = new FakeSocket(url);
      sockets.push(s);
      return s;
    },
    pollMs: 5000,
    minBackoffMs: 1000,
    maxBackoffMs: 4000,
    connectTimeoutMs: 3000,
    stableMs: 10_000,
    now: clock.now,
    timers: clock.timers,
  });
  const events: LiveEvent[] = [];
  const modes: LiveMode[] = [];
  ch.subscribe((e) => events.push(e));
  ch.onMode((m) => modes.push(m));
  return { ch, sockets, clock, events, modes };
}

describe('LiveChannel', () => {
  it('delivers push messages once connected and ignores junk', () => {
    const { ch, sockets, events, modes } = setup();
    ch.start();
    sockets[0]!.onopen?.({});
    sockets[0]!.onmessage?.({ data: '{"type":"stack_deleted","stack_id":"a"}' });
    sockets[0]!.onmessage?.({ data: 'garbage' });
    expect(modes).toEqual(['connecting', 'live']);
    expect(events).toEqual([{ type: 'stack_deleted', stack_id: 'a' }]);
  });

  it('falls back to polling when the socket fails, and retries with backoff', () => {
    const { ch, sockets, clock, events } = setup();
    ch.start();
    sockets[0]!.onclose?.({});
    expect(ch.mode).toBe('polling');
    expect(events).toEqual([{ type: 'resync' }]);
    clock.advance(1000);
    expect(sockets).toHaveLength(2);
    sockets[1]!.onerror?.({});
    clock.advance(1999);
    expect(sockets).toHaveLength(2);
    clock.advance(1);
    expect(sockets).toHaveLength(3);
    clock.advance(5000 - 3000);
    expect(events.filter((e) => e.type === 'resync').length).toBeGreaterThanOrEqual(2);
  });

  it('gives up on a socket that never opens', () => {
    const { ch, sockets, clock } = setup();
    ch.start();
    clock.advance(3000);
    expect(sockets[0]!.closed).toBe(true);
    expect(ch.mode).toBe('polling');
  });

  it('stops polling and resyncs once when it reconnects', () => {
    const { ch, sockets, clock, events } = setup();
    ch.start();
    sockets[0]!.onclose?.({});
    clock.advance(1000);
    sockets[1]!.onopen?.({});
    expect(ch.mode).toBe('live');
    const before = events.length;
    expect(events[before - 1]).toEqual({ type: 'resync' });
    clock.advance(60_000);
    expect(events.length).toBe(before);
  });

  it('keeps backing off from a socket that opens and closes at once', () => {
    const { ch, sockets, clock } = setup();
    ch.start();
    for (let i = 0; i < 3; i++) {
      sockets[i]!.onopen?.({});
      sockets[i]!.onclose?.({});
      clock.advance(1000 * 2 ** i);
    }
    expect(sockets).toHaveLength(4);
    sockets[3]!.onopen?.({});
    sockets[3]!.onclose?.({});
    clock.advance(3999);
    expect(sockets).toHaveLength(4);
    clock.advance(1);
    expect(sockets).toHaveLength(5);
  });

  it('retries quickly again after a connection that lasted', () => {
    const { ch, sockets, clock } = setup();
    ch.start();
    sockets[0]!.onclose?.({});
    clock.advance(1000);
    sockets[1]!.onclose?.({});
    clock.advance(2000);
    sockets[2]!.onopen?.({});
    clock.advance(20_000);
    sockets[2]!.onclose?.({});
    clock.advance(1000);
    expect(sockets).toHaveLength(4);
  });

  it('stop closes the socket and cancels every timer', () => {
    const { ch, sockets, clock } = setup();
    ch.start();
    sockets[0]!.onclose?.({});
    ch.stop();
    clock.advance(60_000);
    expect(sockets).toHaveLength(1);
    expect(ch.mode).toBe('stopped');
  });
});
