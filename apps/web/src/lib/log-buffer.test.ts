import { describe, expect, it } from 'vitest';
import type { LogLine } from '../api';
import { appendLines, emptyLog, follow, isAtBottom } from './log-buffer';

const line = (seq: number, text = `l${seq}`): LogLine => ({
  seq,
  ts: '2026-01-01T00:00:00Z',
  stream: 'stdout',
  text,
});

describe('appendLines', () => {
  it('appends in order and tracks the last seq', () => {
    const b = appendLines(emptyLog(), [line(1), line(2)]);
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2]);
    expect(b.lastSeq).toBe(2);
  });

  it('ignores lines replayed after a reconnect', () => {
    const a = appendLines(emptyLog(), [line(1), line(2)]);
    const b = appendLines(a, [line(1), line(2), line(3)]);
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect(appendLines(b, [line(2)])).toBe(b);
  });

  it('keeps one copy of a line that a batch holds twice (fetched log plus socket replay)', () => {
    const b = appendLines(emptyLog(), [line(1), line(2), line(1), line(2), line(3)]);
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2, 3]);
  });

  it('sorts lines that arrive out of order', () => {
    const b = appendLines(emptyLog(), [line(3), line(1), line(2)]);
    expect(b.lines.map((l) => l.seq)).toEqual([1, 2, 3]);
  });

  it('drops the oldest lines past the cap and counts them', () => {
    const b = appendLines(
      emptyLog(),
      [1, 2, 3, 4, 5].map((n) => line(n)),
      3,
    );
    expect(b.lines.map((l) => l.seq)).toEqual([3, 4, 5]);
    expect(b.dropped).toBe(2);
  });
});

describe('isAtBottom', () => {
  it('treats a few pixels from the end as the bottom', () => {
    expect(isAtBottom({ scrollTop: 490, clientHeight: 100, scrollHeight: 600 })).toBe(true);
    expect(isAtBottom({ scrollTop: 300, clientHeight: 100, scrollHeight: 600 })).toBe(false);
  });
});

describe('follow', () => {
  const start = { following: true, unseen: 0 };

  it('keeps following while new lines arrive at the bottom', () => {
    expect(follow(start, { type: 'lines', count: 5 })).toEqual(start);
  });

  it('pauses when the reader scrolls up and counts unseen lines', () => {
    let s = follow(start, { type: 'scrolled', atBottom: false });
    s = follow(s, { type: 'lines', count: 2 });
    s = follow(s, { type: 'lines', count: 3 });
    expect(s).toEqual({ following: false, unseen: 5 });
  });

  it('resumes on jump to latest or on scrolling back to the bottom', () => {
    const paused = { following: false, unseen: 4 };
    expect(follow(paused, { type: 'jump' })).toEqual(start);
    expect(follow(paused, { type: 'scrolled', atBottom: true })).toEqual(start);
  });
});
