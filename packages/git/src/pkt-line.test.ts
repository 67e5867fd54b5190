import { describe, expect, it } from 'vitest';
import { DELIM_PKT, FLUSH_PKT, PktLineError, parsePktLines, pktLine } from './pkt-line';

describe('pkt-line', () => {
  it('frames a payload with its total length in four hex digits', () => {
    expect(pktLine('command=ls-refs\n').toString()).toBe('0014command=ls-refs\n');
    expect(pktLine('').toString()).toBe('0004');
  });

  it('reads data, flush, delim and response-end packets, without trailing newlines', () => {
    const bytes = Buffer.concat([
      pktLine('version 2\n'),
      DELIM_PKT,
      pktLine('no newline'),
      FLUSH_PKT,
      Buffer.from('0002'),
    ]);
    expect(parsePktLines(bytes)).toEqual([
      { kind: 'data', line: 'version 2' },
      { kind: 'delim' },
      { kind: 'data', line: 'no newline' },
      { kind: 'flush' },
      { kind: 'end' },
    ]);
  });

  it('keeps a NUL inside a line (v0 capabilities follow the first ref after one)', () => {
    const line = `${'a'.repeat(40)} HEAD\0symref=HEAD:refs/heads/main agent=git/2\n`;
    expect(parsePktLines(pktLine(line))).toEqual([{ kind: 'data', line: line.slice(0, -1) }]);
  });

  it('refuses what is not pkt-line framing: HTML, a short length, a line past the end', () => {
    expect(() => parsePktLines(Buffer.from('<html>'))).toThrow(PktLineError);
    expect(() => parsePktLines(Buffer.from('0003'))).toThrow(PktLineError);
    expect(() => parsePktLines(Buffer.from('00ffshort'))).toThrow(PktLineError);
    expect(() => parsePktLines(Buffer.from('00'))).toThrow(PktLineError);
  });

  it('refuses a payload longer than a pkt-line can carry', () => {
    expect(() => pktLine('x'.repeat(65520))).toThrow(RangeError);
  });
});
