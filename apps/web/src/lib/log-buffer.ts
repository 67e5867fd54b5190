// The lines of one deployment's log: ordered by seq, duplicates from a replay
// after reconnecting ignored, and capped so a runaway log can't exhaust the tab.
import type { LogLine } from '../api';

export interface LogBuffer {
  lines: LogLine[];
  /** Lines dropped from the front to stay under the cap. */
  dropped: number;
  /** Highest seq seen, for de-duplicating replays. */
  lastSeq: number;
}

export const MAX_LINES = 20_000;

export function emptyLog(): LogBuffer {
  return { lines: [], dropped: 0, lastSeq: 0 };
}

/** Appends lines, returning a new buffer (or the same one if nothing was new). */
export function appendLines(buf: LogBuffer, incoming: LogLine[], max = MAX_LINES): LogBuffer {
  // A batch can hold the same line twice (the fetched log and the socket's replay).
  const batch = new Set<number>();
  const fresh = incoming.filter((l) => {
    if (l.seq <= buf.lastSeq || batch.has(l.seq)) return false;
    batch.add(l.seq);
    return true;
  });
  if (fresh.length === 0) return buf;
  let lines = buf.lines.concat(fresh);
  if (fresh.some((l, i) => i > 0 && l.seq < fresh[i - 1]!.seq)) {
    lines = lines.slice().sort((a, b) => a.seq - b.seq);
  }
  let dropped = buf.dropped;
  if (lines.length > max) {
    dropped += lines.length - max;
    lines = lines.slice(lines.length - max);
  }
  const lastSeq = fresh.reduce((m, l) => (l.seq > m ? l.seq : m), buf.lastSeq);
  return { lines, dropped, lastSeq };
}

/** Within this many pixels of the bottom counts as "at the bottom". */
export const BOTTOM_SLACK = 24;

export function isAtBottom(
  el: { scrollTop: number; clientHeight: number; scrollHeight: number },
  slack = BOTTOM_SLACK,
): boolean {
  return el.scrollHeight - el.scrollTop - el.clientHeight <= slack;
}

/**
 * Follow state of the viewer: it follows new lines until the reader scrolls up,
 * counts what arrived meanwhile, and follows again at the bottom or on "jump".
 */
export interface FollowState {
  following: boolean;
  unseen: number;
}

export type FollowEvent =
  | { type: 'scrolled'; atBottom: boolean }
  | { type: 'lines'; count: number }
  | { type: 'jump' };

export function follow(state: FollowState, ev: FollowEvent): FollowState {
  switch (ev.type) {
    case 'scrolled':
      if (ev.atBottom)
        return state.following && !state.unseen ? state : { following: true, unseen: 0 };
      return state.following ? { following: false, unseen: 0 } : state;
    case 'lines':
      return state.following ? state : { ...state, unseen: state.unseen + ev.count };
    case 'jump':
      return { following: true, unseen: 0 };
  }
}
