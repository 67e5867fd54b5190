/** One packet of git's pkt-line framing (gitprotocol-common): data, or a special packet. */
export type Pkt =
  | { kind: 'data'; line: string }
  /** 0000: end of a section or message. */
  | { kind: 'flush' }
  /** 0001 (protocol v2): separates a command's capabilities from its arguments. */
  | { kind: 'delim' }
  /** 0002 (protocol v2): end of a stateless response. */
  | { kind: 'end' };

/** The largest pkt-line git allows (65520 bytes including the 4-byte length). */
export const MAX_PKT_LENGTH = 65520;

/** One data packet: 4 hex digits of total length, then the payload. */
export function pktLine(payload: string): Buffer {
  const data = Buffer.from(payload, 'utf8');
  const length = data.length + 4;
  if (length > MAX_PKT_LENGTH) throw new RangeError(`pkt-line payload too long (${length} bytes)`);
  return Buffer.concat([Buffer.from(length.toString(16).padStart(4, '0'), 'ascii'), data]);
}

export const FLUSH_PKT = Buffer.from('0000', 'ascii');
export const DELIM_PKT = Buffer.from('0001', 'ascii');

/** Thrown for bytes that are not pkt-lines: the answer did not come from a git server. */
export class PktLineError extends Error {
  override name = 'PktLineError';
}

/**
 * Splits a whole response into packets. Data lines are decoded as UTF-8 with their
 * trailing newline removed (ref names and capabilities are text). Anything that is
 * not pkt-line framing (a bad length, a length past the end) throws PktLineError.
 */
export function parsePktLines(buf: Uint8Array): Pkt[] {
  const bytes = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
  const out: Pkt[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (at + 4 > bytes.length) throw new PktLineError('truncated pkt-line length');
    const hex = bytes.toString('ascii', at, at + 4);
    if (!/^[0-9a-f]{4}$/i.test(hex)) throw new PktLineError('invalid pkt-line length');
    const length = Number.parseInt(hex, 16);
    if (length === 0) out.push({ kind: 'flush' });
    else if (length === 1) out.push({ kind: 'delim' });
    else if (length === 2) out.push({ kind: 'end' });
    else if (length < 4) throw new PktLineError(`invalid pkt-line length ${length}`);
    else {
      if (at + length > bytes.length) throw new PktLineError('truncated pkt-line');
      let line = bytes.toString('utf8', at + 4, at + length);
      if (line.endsWith('\n')) line = line.slice(0, -1);
      out.push({ kind: 'data', line });
    }
    at += length < 4 ? 4 : length;
  }
  return out;
}
