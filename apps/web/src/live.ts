// The push channel (GET /api/v1/events/ws): one socket for the whole app. When it
// can't connect, subscribers are asked to re-fetch every few seconds instead, and
// reconnecting is retried with backoff; on reconnect they re-fetch once to catch up.
import type { LiveMessage } from './api';
import { parseLiveMessage } from './lib/live-state';

export type LiveMode = 'connecting' | 'live' | 'polling' | 'stopped';
/** A push message, or `resync`: re-fetch now (poll tick or after reconnecting). */
export type LiveEvent = LiveMessage | { type: 'resync' };

interface SocketLike {
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: unknown) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  close(): void;
}

export interface LiveOptions {
  url: string;
  createSocket?: (url: string) => SocketLike;
  pollMs?: number;
  connectTimeoutMs?: number;
  minBackoffMs?: number;
  maxBackoffMs?: number;
  /** A connection that lasted this long resets the backoff; a flapping one doesn't. */
  stableMs?: number;
  now?: () => number;
  timers?: {
    setTimeout: (fn: () => void, ms: number) => unknown;
    clearTimeout: (id: unknown) => void;
    setInterval: (fn: () => void, ms: number) => unknown;
    clearInterval: (id: unknown) => void;
  };
}

export class LiveChannel {
  mode: LiveMode = 'stopped';
  private socket: SocketLike | null = null;
  private listeners = new Set<(e: LiveEvent) => void>();
  private modeListeners = new Set<(m: LiveMode) => void>();
  private pollTimer: unknown = null;
  private retryTimer: unknown = null;
  private connectTimer: unknown = null;
  private backoff: number;
  private everFailed = false;
  private openedAt: number | null = null;
  private readonly o: Required<LiveOptions>;

  constructor(opts: LiveOptions) {
    this.o = {
      createSocket: (url) => new WebSocket(url) as unknown as SocketLike,
      pollMs: 5000,
      connectTimeoutMs: 8000,
      minBackoffMs: 1000,
      maxBackoffMs: 30_000,
      stableMs: 10_000,
      now: () => Date.now(),
      timers: {
        setTimeout: (fn, ms) => globalThis.setTimeout(fn, ms),
        clearTimeout: (id) => globalThis.clearTimeout(id as number),
        setInterval: (fn, ms) => globalThis.setInterval(fn, ms),
        clearInterval: (id) => globalThis.clearInterval(id as number),
      },
      ...opts,
    };
    this.backoff = this.o.minBackoffMs;
  }

  start(): void {
    if (this.mode !== 'stopped') return;
    this.connect();
  }

  stop(): void {
    this.setMode('stopped');
    this.stopPolling();
    const t = this.o.timers;
    if (this.retryTimer !== null) t.clearTimeout(this.retryTimer);
    if (this.connectTimer !== null) t.clearTimeout(this.connectTimer);
    this.retryTimer = this.connectTimer = null;
    const s = this.socket;
    this.socket = null;
    if (s) {
      s.onclose = s.onerror = s.onmessage = s.onopen = null;
      s.close();
    }
  }

  subscribe(fn: (e: LiveEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  onMode(fn: (m: LiveMode) => void): () => void {
    this.modeListeners.add(fn);
    return () => this.modeListeners.delete(fn);
  }

  private connect(): void {
    this.setMode(this.everFailed ? 'polling' : 'connecting');
    let s: SocketLike;
    try {
      s = this.o.createSocket(this.o.url);
    } catch {
      this.failed();
      return;
    }
    this.socket = s;
    const t = this.o.timers;
    this.connectTimer = t.setTimeout(() => {
      this.connectTimer = null;
      if (this.socket === s && this.mode !== 'live') this.drop(s);
    }, this.o.connectTimeoutMs);
    s.onopen = () => {
      if (this.socket !== s) return;
      if (this.connectTimer !== null) t.clearTimeout(this.connectTimer);
      this.connectTimer = null;
      this.openedAt = this.o.now();
      this.stopPolling();
      this.setMode('live');
      if (this.everFailed) this.emit({ type: 'resync' });
    };
    s.onmessage = (ev) => {
      const msg = parseLiveMessage(ev.data);
      if (msg) this.emit(msg);
    };
    s.onerror = () => {
      if (this.socket === s) this.drop(s);
    };
    s.onclose = () => {
      if (this.socket === s) this.drop(s);
    };
  }

  private drop(s: SocketLike): void {
    s.onclose = s.onerror = s.onmessage = s.onopen = null;
    try {
      s.close();
    } catch {
      // Already closed.
    }
    this.socket = null;
    if (this.openedAt !== null && this.o.now() - this.openedAt >= this.o.stableMs) {
      this.backoff = this.o.minBackoffMs;
    }
    this.openedAt = null;
    this.failed();
  }

  private failed(): void {
    if (this.mode === 'stopped') return;
    const t = this.o.timers;
    if (this.connectTimer !== null) t.clearTimeout(this.connectTimer);
    this.connectTimer = null;
    this.everFailed = true;
    this.setMode('polling');
    if (this.pollTimer === null) {
      this.emit({ type: 'resync' });
      this.pollTimer = t.setInterval(() => this.emit({ type: 'resync' }), this.o.pollMs);
    }
    const wait = this.backoff;
    this.backoff = Math.min(this.backoff * 2, this.o.maxBackoffMs);
    this.retryTimer = t.setTimeout(() => {
      this.retryTimer = null;
      if (this.mode !== 'stopped') this.connect();
    }, wait);
  }

  private stopPolling(): void {
    if (this.pollTimer !== null) this.o.timers.clearInterval(this.pollTimer);
    this.pollTimer = null;
  }

  private setMode(m: LiveMode): void {
    if (this.mode === m) return;
    this.mode = m;
    for (const fn of this.modeListeners) fn(m);
  }

  private emit(e: LiveEvent): void {
    for (const fn of this.listeners) fn(e);
  }
}
