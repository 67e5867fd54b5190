import { describe, expect, it } from 'vitest';
import { parseAnsi, segmentAttrs, stripAnsi } from './ansi';

describe('parseAnsi', () => {
  it('returns one plain segment for text without escapes', () => {
    expect(parseAnsi('hello world')).toEqual([{ text: 'hello world', style: {} }]);
  });

  it('turns SGR colour codes into styled segments and resets on 0', () => {
    expect(parseAnsi('\x1b[31mred\x1b[0m plain \x1b[1;92mbold green\x1b[m')).toEqual([
      { text: 'red', style: { fg: 'red' } },
      { text: ' plain ', style: {} },
      { text: 'bold green', style: { bold: true, fg: 'bright-green' } },
    ]);
  });

  it('renders 256-colour and truecolour codes as rgb', () => {
    const [a, b] = parseAnsi('\x1b[38;5;196mx\x1b[48;2;1;2;3my');
    expect(a?.style.fg).toBe('rgb(255,0,0)');
    expect(b?.style).toEqual({ fg: 'rgb(255,0,0)', bg: 'rgb(1,2,3)' });
  });

  it('drops cursor movement, erase and OSC sequences', () => {
    expect(stripAnsi('\x1b[1A\x1b[2K\x1b]0;title\x07 Container web  Started')).toBe(
      ' Container web  Started',
    );
  });

  it('keeps only what follows the last carriage return, like a terminal', () => {
    expect(stripAnsi('Pulling 10%\rPulling 50%\rPulling 100%\r')).toBe('Pulling 100%');
  });

  it('merges adjacent segments with the same style', () => {
    expect(parseAnsi('\x1b[32ma\x1b[32mb')).toEqual([{ text: 'ab', style: { fg: 'green' } }]);
  });

  it('removes stray control characters but keeps tabs', () => {
    expect(stripAnsi('a\x07b\tc')).toBe('ab\tc');
  });
});

describe('segmentAttrs', () => {
  it('uses classes for named colours and inline css for rgb', () => {
    expect(segmentAttrs({ fg: 'red', bold: true })).toEqual({
      className: 'ansi-fg-red ansi-bold',
      style: '',
    });
    expect(segmentAttrs({ bg: 'rgb(1,2,3)' })).toEqual({
      className: '',
      style: 'background:rgb(1,2,3)',
    });
  });
});
