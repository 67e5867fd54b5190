import type { AppError, Clock, Logger, Redact } from '@simpledeploy/core';
import type { DomainDeps } from './domain';
import type { AccessInfo, Principal } from './middleware/auth';
import type { BucketPolicy } from './middleware/rate-limit';
import type { StreamGuard } from './streams';

/** The result of one health probe. `error` is a short sentence, safe to show unauthenticated callers. */
export interface ComponentHealth {
  ok: boolean;
  version?: string;
  error?: string;
}

/**
 * The probes behind `GET /health`. Each owns its timeout and caching: the api awaits
 * them in parallel on every request and treats a rejection as "down".
 */
export interface HealthChecks {
  database(): Promise<ComponentHealth>;
  docker(): Promise<ComponentHealth>;
  compose(): Promise<ComponentHealth>;
  /** Each host's last health check, from the database (never waits on a host). */
  hosts?(): HostHealthSummary[];
}

export interface HostHealthSummary {
  name: string;
  reachable: boolean | null;
  swarm: 'inactive' | 'manager' | 'worker' | null;
  last_checked_at: string | null;
  error: string | null;
}

/** The server's metrics in the Prometheus text exposition format. */
export interface MetricsEndpoint {
  readonly contentType: string;
  render(): Promise<string>;
}

/**
 * Everything the HTTP layer needs, built once by the composition root (apps/server).
 * Capabilities come in as ports, so the api never does I/O of its own: add a field
 * here for each new service a route needs (e.g. `deployer`), and build it in
 * apps/server/src/container.ts.
 */
export interface AppDeps {
  /** The key from the environment: the first admin key (access.ts). Must not be empty. */
  apiKey: string;
  logger: Logger;
  /** simpledeploy's version, reported by `/health` and `/metrics`. */
  version: string;
  health: HealthChecks;
  /** What `GET /metrics` serves (the server's prom-client registry); empty without it. */
  metrics?: MetricsEndpoint | undefined;
  /** Stacks, deployments, versions, logs and lifecycle commands. */
  domain: DomainDeps;
  /** Largest request body accepted, in bytes (default 1 MiB); larger ones get 413. */
  maxBodyBytes?: number;
  /**
   * The server-wide redactor (API key, every stack's secrets); error messages pass it
   * on the way out. Default: the API key and credentials inside URLs.
   */
  redact?: Redact;
  /**
   * Turns errors of the server's adapters that the api cannot know (SQLite's "database
   * is locked": `UNAVAILABLE`) into AppErrors; what it leaves undefined is a generic 500.
   */
  translateError?: (error: unknown) => AppError | undefined;
  /** Time for the rate limiter; the system clock by default. */
  clock?: Pick<Clock, 'now'>;
  /**
   * Allowances for failed authentication per client address (429 beyond them);
   * `false` turns the limiter off. Valid credentials are never limited.
   */
  rateLimit?: { auth?: BucketPolicy; webhook?: BucketPolicy; maxKeys?: number } | false;
  /** Swagger UI's files for `GET /api/v1/docs`; without them the page says it is not installed. */
  docsAssets?: DocsAssets;
}

/**
 * The files of the API reference page (`GET /api/v1/docs`), by name; undefined when not
 * installed. The server reads them from swagger-ui-dist, so the page needs no CDN.
 */
export type DocsAssets = (
  name: 'swagger-ui.css' | 'swagger-ui-bundle.js',
) => Promise<Uint8Array | string | undefined>;

/** Hono's environment for every route: what middleware puts on the context. */
export interface AppEnv {
  Variables: {
    requestId: string;
    /** deps.logger with this request's id attached: use it inside handlers. */
    logger: Logger;
    /** Who sent the request, once its key was checked (none on open routes). */
    principal?: Principal;
    /** The request's row of the access table and its target, for the audit log. */
    access?: AccessInfo;
    /** For a stream route: how to end the stream on revocation and what it may send. */
    streamGuard?: StreamGuard;
  };
}
