// ANSI escape handling for log lines: SGR colour codes become styled segments,
// every other control sequence (cursor moves, erase, OSC titles) is dropped.

export interface AnsiStyle {
  fg?: string;
  bg?: string;
  bold?: boolean;
  dim?: boolean;
  italic?: boolean;
  underline?: boolean;
}

export interface AnsiSegment {
  text: string;
  style: AnsiStyle;
}

const NAMES = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

// CSI (ESC [ ... final), OSC (ESC ] ... BEL or ESC \), and two-byte escapes.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape codes is the point
const ESCAPE = /\x1b\[([0-9;:?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;
// biome-ignore lint/suspicious/noControlCharactersInRegex: stray control characters
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f]/g;

function color256(n: number): string {
  if (n < 16) return n < 8 ? NAMES[n]! : `bright-${NAMES[n - 8]}`;
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const steps = [0, 95, 135, 175, 215, 255];
  return `rgb(${steps[Math.floor(i / 36)]},${steps[Math.floor(i / 6) % 6]},${steps[i % 6]})`;
}

function applySgr(style: AnsiStyle, params: string): AnsiStyle {
  const codes = params === '' ? [0] : params.split(/[;:]/).map((p) => Number(p || 0));
  let s: AnsiStyle = { ...style };
  for (let i = 0; i < codes.length; i++) {
    const c = codes[i]!;
    if (c === 0) s = {};
    else if (c === 1) s.bold = true;
    else if (c === 2) s.dim = true;
    else if (c === 3) s.italic = true;
    else if (c === 4) s.underline = true;
    else if (c === 22) {
      s.bold = false;
      s.dim = false;
    } else if (c === 23) s.italic = false;
    else if (c === 24) s.underline = false;
    else if (c >= 30 && c <= 37) s.fg = NAMES[c - 30];
    else if (c === 39) s.fg = undefined;
    else if (c >= 40 && c <= 47) s.bg = NAMES[c - 40];
    else if (c === 49) s.bg = undefined;
    else if (c >= 90 && c <= 97) s.fg = `bright-${NAMES[c - 90]}`;
    else if (c >= 100 && c <= 107) s.bg = `bright-${NAMES[c - 100]}`;
    else if (c === 38 || c === 48) {
      const key = c === 38 ? 'fg' : 'bg';
      if (codes[i + 1] === 5 && codes[i + 2] !== undefined) {
        s[key] = color256(codes[i + 2]!);
        i += 2;
      } else if (codes[i + 1] === 2 && codes[i + 4] !== undefined) {
        s[key] = `rgb(${codes[i + 2]},${codes[i + 3]},${codes[i + 4]})`;
        i += 4;
      }
    }
  }
  for (const k of Object.keys(s) as (keyof AnsiStyle)[]) {
    if (s[k] === undefined || s[k] === false) delete s[k];
  }
  return s;
}

/** Keeps what a terminal would show after carriage returns overwrote the line. */
function lastCarriageSegment(text: string): string {
  const trimmed = text.replace(/\r+$/, '');
  const at = trimmed.lastIndexOf('\r');
  return at === -1 ? trimmed : trimmed.slice(at + 1);
}

/** Splits a line into styled segments; adjacent segments never share a style. */
export function parseAnsi(input: string): AnsiSegment[] {
  const text = lastCarriageSegment(input);
  const out: AnsiSegment[] = [];
  let style: AnsiStyle = {};
  let last = 0;
  const push = (chunk: string) => {
    const clean = chunk.replace(CONTROL, '');
    if (!clean) return;
    const prev = out[out.length - 1];
    if (prev && sameStyle(prev.style, style)) prev.text += clean;
    else out.push({ text: clean, style });
  };
  ESCAPE.lastIndex = 0;
  for (let m = ESCAPE.exec(text); m; m = ESCAPE.exec(text)) {
    push(text.slice(last, m.index));
    if (m[2] === 'm') style = applySgr(style, m[1] ?? '');
    last = ESCAPE.lastIndex;
  }
  push(text.slice(last));
  return out;
}

/** The line as plain text, every escape sequence removed. */
export function stripAnsi(input: string): string {
  return parseAnsi(input)
    .map((s) => s.text)
    .join('');
}

function sameStyle(a: AnsiStyle, b: AnsiStyle): boolean {
  return (
    a.fg === b.fg &&
    a.bg === b.bg &&
    !!a.bold === !!b.bold &&
    !!a.dim === !!b.dim &&
    !!a.italic === !!b.italic &&
    !!a.underline === !!b.underline
  );
}

/** CSS classes and inline colours for a segment (named colours use theme classes). */
export function segmentAttrs(style: AnsiStyle): { className: string; style: string } {
  const cls: string[] = [];
  const css: string[] = [];
  if (style.fg) {
    if (style.fg.startsWith('rgb')) css.push(`color:${style.fg}`);
    else cls.push(`ansi-fg-${style.fg}`);
  }
  if (style.bg) {
    if (style.bg.startsWith('rgb')) css.push(`background:${style.bg}`);
    else cls.push(`ansi-bg-${style.bg}`);
  }
  if (style.bold) cls.push('ansi-bold');
  if (style.dim) cls.push('ansi-dim');
  if (style.italic) cls.push('ansi-italic');
  if (style.underline) cls.push('ansi-underline');
  return { className: cls.join(' '), style: css.join(';') };
}
