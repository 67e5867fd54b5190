import type { Clock } from '@simpledeploy/core';
import type { Context, MiddlewareHandler } from 'hono';
import type { AppEnv } from '../deps';
import { errorBody } from '../errors';

/** A token bucket: `burst` failures at once, then one more every `60 / perMinute` seconds. */
export interface BucketPolicy {
  burst: number;
  perMinute: number;
}

export interface FailureLimiterOptions {
  clock: Pick<Clock, 'now'>;
  /** Most clients tracked at once; the least recently seen are forgotten first. */
  maxKeys?: number;
}

/**
 * Counts failures per key (token buckets with bounded memory). Only failures are
 * counted, so nothing done with valid credentials is ever slowed down.
 */
export function createFailureLimiter(policy: BucketPolicy, opts: FailureLimiterOptions) {
  const maxKeys = opts.maxKeys ?? 10_000;
  const perMs = policy.perMinute / 60_000;
  const buckets = new Map<string, { tokens: number; at: number }>();

  const refill = (b: { tokens: number; at: number }, now: number) => {
    b.tokens = Math.min(policy.burst, b.tokens + (now - b.at) * perMs);
    b.at = now;
  };

  /** Frees room: first buckets that have refilled (they hold no state), then the oldest. */
  function evict(now: number) {
    for (const [k, b] of buckets) {
      refill(b, now);
      if (b.tokens >= policy.burst) buckets.delete(k);
    }
    while (buckets.size >= maxKeys) {
      const oldest = buckets.keys().next().value;
      if (oldest === undefined) break;
      buckets.delete(oldest);
    }
  }

  return {
    /**
     * Records one failure for key. Returns 0 while the key is within its allowance,
     * else the seconds until it may fail again (the 429's Retry-After).
     */
    fail(key: string): number {
      const now = opts.clock.now().getTime();
      let b = buckets.get(key);
      if (b) {
        buckets.delete(key); // re-inserted below: Map order is least recently seen first
        refill(b, now);
      } else {
        if (buckets.size >= maxKeys) evict(now);
        b = { tokens: policy.burst, at: now };
      }
      buckets.set(key, b);
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return Math.max(1, Math.ceil((1 - b.tokens) / perMs / 1000));
    },
    get size() {
      return buckets.size;
    },
  };
}

export type FailureLimiter = ReturnType<typeof createFailureLimiter>;

export interface RateLimitOptions {
  clock: Pick<Clock, 'now'>;
  /** Failed API-key checks per client address. Default: 10 at once, then 10 a minute. */
  auth?: BucketPolicy;
  /** Badly signed webhooks per client address. Default: 30 at once, then 30 a minute. */
  webhook?: BucketPolicy;
  maxKeys?: number;
  /** Which requests count as webhooks (their failures have their own allowance). */
  isWebhook: (c: Context) => boolean;
}

export const DEFAULT_AUTH_POLICY: BucketPolicy = { burst: 10, perMinute: 10 };
export const DEFAULT_WEBHOOK_POLICY: BucketPolicy = { burst: 30, perMinute: 30 };

interface NodeBindings {
  incoming?: { socket?: { remoteAddress?: string } };
}

/**
 * The client's address as the socket saw it (@hono/node-server puts the request on
 * `c.env.incoming`). Headers such as X-Forwarded-For are not trusted: anyone can send
 * them. IPv6 clients are grouped by /64, which one host usually owns whole.
 */
export function clientAddress(c: Context): string {
  const raw = (c.env as NodeBindings | undefined)?.incoming?.socket?.remoteAddress;
  if (!raw) return 'unknown';
  const v4 = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw)?.[1];
  if (v4) return v4;
  if (!raw.includes(':')) return raw;
  return `${expandIpv6(raw).slice(0, 4).join(':')}::/64`;
}

function expandIpv6(addr: string): string[] {
  const [head = '', tail] = addr.split('%')[0]?.split('::') ?? [''];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = tail === undefined ? [] : Array(Math.max(0, 8 - h.length - t.length)).fill('0');
  return [...h, ...fill, ...t].map((g) => g.toLowerCase().replace(/^0+(?=.)/, ''));
}

/**
 * Answers `429 RATE_LIMITED` with `Retry-After` to a client whose authentication keeps
 * failing: wrong API keys, or webhooks without a valid signature. It only ever turns
 * a 401 into a 429, after the credentials were checked, so a correct key or signature
 * from the same address still passes (a reverse proxy or a git host shares its
 * address between good and bad callers).
 */
export function authFailureLimit(opts: RateLimitOptions): MiddlewareHandler<AppEnv> {
  const limiterOpts = { clock: opts.clock, ...(opts.maxKeys ? { maxKeys: opts.maxKeys } : {}) };
  const auth = createFailureLimiter(opts.auth ?? DEFAULT_AUTH_POLICY, limiterOpts);
  const webhook = createFailureLimiter(opts.webhook ?? DEFAULT_WEBHOOK_POLICY, limiterOpts);
  return async (c, next) => {
    await next();
    if (c.res.status !== 401) return;
    const isWebhook = opts.isWebhook(c);
    const wait = (isWebhook ? webhook : auth).fail(clientAddress(c));
    if (wait === 0) return;
    const what = isWebhook ? 'webhooks without a valid signature' : 'requests with a wrong API key';
    const body = errorBody(
      'RATE_LIMITED',
      `too many ${what} from this address: retry in ${wait} s with valid credentials`,
      { retry_after_seconds: wait },
    );
    const headers = new Headers({
      'content-type': 'application/json',
      'retry-after': String(wait),
    });
    const requestId = c.res.headers.get('x-request-id');
    if (requestId) headers.set('x-request-id', requestId);
    // Replaced whole (not merged): the 401's WWW-Authenticate and length do not apply.
    c.res = undefined;
    c.res = new Response(JSON.stringify(body), { status: 429, headers });
  };
}
