import { describe, expect, it } from 'vitest';
import { parseComposeLogLine, parseSize, parseStatsJson } from './container-output';

describe('parseComposeLogLine', () => {
  it('splits the container prefix and the engine timestamp from the text', () => {
    expect(
      parseComposeLogLine('sd-app-web-1  | 2026-11-30T10:00:01.123456789Z hello | world'),
    ).toEqual({
      container: 'sd-app-web-1',
      ts: '2026-11-30T10:00:01.123456789Z',
      text: 'hello | world',
    });
  });
  it('drops the terminal control compose puts before the prefix', () => {
    expect(parseComposeLogLine('\x1b[2Kweb-1  | hi').container).toBe('web-1');
  });
  it('keeps a line without prefix or timestamp as text', () => {
    expect(parseComposeLogLine('no prefix here')).toEqual({
      container: '',
      ts: null,
      text: 'no prefix here',
    });
    expect(parseComposeLogLine('c-1  | plain')).toEqual({
      container: 'c-1',
      ts: null,
      text: 'plain',
    });
  });
});

describe('parseStatsJson', () => {
  it('reads percentages and decimal and binary sizes', () => {
    const out = parseStatsJson(
      `${JSON.stringify({
        Name: 'sd-app-web-1',
        CPUPerc: '12.50%',
        MemUsage: '1.5MiB / 2GiB',
        MemPerc: '0.07%',
        NetIO: '1.2kB / 648B',
        PIDs: '3',
      })}\n`,
    );
    expect(out).toEqual([
      {
        container: 'sd-app-web-1',
        cpu_percent: 12.5,
        memory_usage_bytes: 1572864,
        memory_limit_bytes: 2147483648,
        memory_percent: 0.07,
        network_rx_bytes: 1200,
        network_tx_bytes: 648,
        pids: 3,
      },
    ]);
  });
  it('gives null for what the engine reports as --', () => {
    const [row] = parseStatsJson(
      JSON.stringify({ Name: 'x', CPUPerc: '--', MemUsage: '-- / --', NetIO: '--', PIDs: '--' }),
    );
    expect(row?.cpu_percent).toBeNull();
    expect(row?.memory_usage_bytes).toBeNull();
    expect(row?.network_tx_bytes).toBeNull();
    expect(row?.pids).toBeNull();
    expect(parseSize('12XB')).toBeNull();
  });
});
