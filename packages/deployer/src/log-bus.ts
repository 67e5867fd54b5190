import type { DeploymentStatus, LogLine } from '@simpledeploy/core';

export type LogListener = (
  event: { type: 'line'; line: LogLine } | { type: 'end'; status: DeploymentStatus },
) => void;

export interface LogBusOptions {
  /** Lines kept in memory per deployment; older ones are dropped from the replay. */
  maxLines?: number;
  /** Finished deployments kept in memory for late viewers before the stored log takes over. */
  keepFinished?: number;
}

interface Channel {
  lines: LogLine[];
  seq: number;
  dropped: number;
  listeners: Set<LogListener>;
  ended?: DeploymentStatus;
}

/**
 * In-process fan-out of deployment output. Appending is O(listeners) with no awaits,
 * so a slow viewer can never hold the deploy back: transports buffer (or drop) on their side.
 */
export function createLogBus(opts: LogBusOptions = {}) {
  const maxLines = opts.maxLines ?? 5000;
  const keepFinished = opts.keepFinished ?? 50;
  const channels = new Map<string, Channel>();
  const finishedOrder: string[] = [];

  const channel = (id: string): Channel => {
    let ch = channels.get(id);
    if (!ch) {
      ch = { lines: [], seq: 0, dropped: 0, listeners: new Set() };
      channels.set(id, ch);
    }
    return ch;
  };

  return {
    append(id: string, stream: LogLine['stream'], text: string, ts: string): LogLine {
      const ch = channel(id);
      const line: LogLine = { seq: ++ch.seq, ts, stream, text };
      ch.lines.push(line);
      if (ch.lines.length > maxLines) {
        ch.lines.shift();
        ch.dropped++;
      }
      for (const l of ch.listeners) l({ type: 'line', line });
      return line;
    },

    end(id: string, status: DeploymentStatus): void {
      const ch = channel(id);
      ch.ended = status;
      for (const l of ch.listeners) l({ type: 'end', status });
      ch.listeners.clear();
      finishedOrder.push(id);
      while (finishedOrder.length > keepFinished) {
        const old = finishedOrder.shift();
        if (old) channels.delete(old);
      }
    },

    /** Lines so far (oldest dropped first when over the cap). */
    lines(id: string): LogLine[] | undefined {
      return channels.get(id)?.lines.slice();
    },

    /**
     * Replays what exists, then follows. Returns undefined when the bus has never seen
     * the deployment (the caller falls back to the stored log).
     */
    subscribe(
      id: string,
      listener: LogListener,
    ): { replay: LogLine[]; ended?: DeploymentStatus; unsubscribe: () => void } | undefined {
      const ch = channels.get(id);
      if (!ch) return undefined;
      const replay = ch.lines.slice();
      if (ch.ended === undefined) ch.listeners.add(listener);
      return {
        replay,
        ...(ch.ended !== undefined ? { ended: ch.ended } : {}),
        unsubscribe: () => ch.listeners.delete(listener),
      };
    },

    /** Opens a channel before the first line so early subscribers can follow. */
    open(id: string): void {
      channel(id);
    },

    listenerCount(id: string): number {
      return channels.get(id)?.listeners.size ?? 0;
    },
  };
}

export type LogBus = ReturnType<typeof createLogBus>;
