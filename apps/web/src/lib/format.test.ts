import { describe, expect, it } from 'vitest';
import {
  absoluteTime,
  deploymentDuration,
  formatBytes,
  formatDuration,
  shortId,
  shortSha,
  timeAgo,
} from './format';

const now = Date.parse('2026-01-01T12:00:00Z');

describe('timeAgo', () => {
  it('reads naturally across scales', () => {
    expect(timeAgo('2026-01-01T11:59:58Z', now)).toBe('just now');
    expect(timeAgo('2026-01-01T11:59:30Z', now)).toBe('30 s ago');
    expect(timeAgo('2026-01-01T11:55:00Z', now)).toBe('5 min ago');
    expect(timeAgo('2026-01-01T09:00:00Z', now)).toBe('3 h ago');
    expect(timeAgo('2025-12-31T12:00:00Z', now)).toBe('1 day ago');
    expect(timeAgo('2026-01-01T12:05:00Z', now)).toBe('in 5 min');
  });

  it('shows a dash for missing or bad times', () => {
    expect(timeAgo(null, now)).toBe('—');
    expect(timeAgo('nope', now)).toBe('—');
  });
});

describe('formatDuration', () => {
  it('picks a unit that fits', () => {
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(12_300)).toBe('12.3 s');
    expect(formatDuration(245_000)).toBe('4 min 05 s');
    expect(formatDuration(3_720_000)).toBe('1 h 02 min');
    expect(formatDuration(null)).toBe('—');
  });
});

describe('deploymentDuration', () => {
  it('uses now for a deployment still running, null before it started', () => {
    expect(deploymentDuration({ started_at: '2026-01-01T11:59:00Z' }, now)).toBe(60_000);
    expect(
      deploymentDuration(
        { started_at: '2026-01-01T11:00:00Z', finished_at: '2026-01-01T11:00:05Z' },
        now,
      ),
    ).toBe(5000);
    expect(deploymentDuration({}, now)).toBeNull();
  });
});

describe('ids and times', () => {
  it('shortens commits and formats UTC times', () => {
    expect(shortSha('0123456789abcdef')).toBe('0123456');
    expect(shortSha(null)).toBe('—');
    expect(absoluteTime('2026-01-01T12:00:00.123Z')).toBe('2026-01-01 12:00:00 UTC');
  });

  it('shortens ids made at the same time to different kind-and-tail labels', () => {
    expect(shortId('ver_0mwrwn8u903c92dbc5360')).toBe('ver_bc5360');
    expect(shortId('ver_0mwrwn8u904aa77e1f0b2')).not.toBe(shortId('ver_0mwrwn8u903c92dbc5360'));
    expect(shortId('dep_1')).toBe('dep_1');
    expect(shortId(null)).toBe('—');
  });
});

describe('formatBytes', () => {
  it('reads bytes in 1024-based units, and a dash when unknown', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(2 * 1024 ** 3)).toBe('2.0 GiB');
    expect(formatBytes(null)).toBe('—');
  });
});
