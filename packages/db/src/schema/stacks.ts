import { randomUUID } from 'node:crypto';
import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** A compose project the host must keep running. Secret columns hold SecretBox ciphertext. */
export const stacks = sqliteTable('stacks', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** A random UUID (Supervisor's stack id); `{stack}` in a path accepts it too. Backfilled by migration 0002. */
  uuid: text('uuid')
    .unique()
    .$defaultFn(() => randomUUID()),
  /** Inline compose YAML; null for git stacks. */
  compose: text('compose'),
  repoUrl: text('repo_url'),
  repoUsername: text('repo_username'),
  repoTokenEnc: text('repo_token_enc'),
  repoBranch: text('repo_branch'),
  composePath: text('compose_path'),
  composeIncludes: text('compose_includes', { mode: 'json' })
    .$type<string[]>()
    .notNull()
    .default([]),
  composeVariables: text('compose_variables', { mode: 'json' })
    .$type<Record<string, string>>()
    .notNull()
    .default({}),
  serviceFilter: text('service_filter', { mode: 'json' }).$type<string[]>().notNull().default([]),
  /** Host policy rules and host path prefixes this stack may use beyond the server's policy. */
  policyExceptions: text('policy_exceptions', { mode: 'json' })
    .$type<string[]>()
    .notNull()
    .default([]),
  /** How changed services are replaced: compose's `stop-first`, or `start-first` (new beside old). */
  updateOrder: text('update_order')
    .$type<'stop-first' | 'start-first'>()
    .notNull()
    .default('stop-first'),
  /** The host the stack runs on (hosts.id); `local` is the server's own engine. */
  hostId: text('host_id').notNull().default('local'),
  /** `compose` (docker compose up) or `swarm` (docker stack deploy on a swarm manager). */
  engine: text('engine').$type<'compose' | 'swarm'>().notNull().default('compose'),
  autoDeploy: integer('auto_deploy', { mode: 'boolean' }).notNull().default(false),
  reconcileIntervalSeconds: integer('reconcile_interval_seconds').notNull().default(0),
  autoRollback: integer('auto_rollback', { mode: 'boolean' }).notNull().default(true),
  /** Deploy (trigger image_update, pull forced) when a service's tag points at a new digest. */
  autoUpdate: integer('auto_update', { mode: 'boolean' }).notNull().default(false),
  /** How often the registry is asked for the digests of the stack's tags; 0 = never. */
  updateCheckIntervalSeconds: integer('update_check_interval_seconds').notNull().default(0),
  /** The last image update check (GET /updates' body), so the badge survives a restart. */
  updateCheck: text('update_check', { mode: 'json' }).$type<StoredUpdateCheck>(),
  /** Where deployment statuses go for a git stack: inferred from repo_url's host, a host kind, or off. */
  commitStatus: text('commit_status')
    .$type<'auto' | 'github' | 'gitea' | 'gitlab' | 'off'>()
    .notNull()
    .default('auto'),
  /** The git host's API base URL for a self-hosted GitHub Enterprise, Gitea/Forgejo or GitLab. */
  commitStatusApiUrl: text('commit_status_api_url'),
  deployTimeoutSeconds: integer('deploy_timeout_seconds').notNull().default(900),
  webhookSecretEnc: text('webhook_secret_enc'),
  /** A header of the stack's own (Supervisor's signature_header) carrying the HMAC of the body. */
  webhookSignatureHeader: text('webhook_signature_header'),
  /** JSON list of {registry, username, password}, encrypted as one value. */
  registriesEnc: text('registries_enc'),
  currentVersionId: text('current_version_id'),
  deployedCommit: text('deployed_commit'),
  /** What the remote branch pointed at when last polled. */
  remoteCommit: text('remote_commit'),
  lastPollAt: text('last_poll_at'),
  lastPollError: text('last_poll_error'),
  pollFailures: integer('poll_failures').notNull().default(0),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

/** One image update check of a stack, as stored (and served by GET /updates). */
export interface StoredUpdateCheck {
  checked_at: string;
  services: {
    service: string;
    image: string;
    running_digest: string | null;
    registry_digest: string | null;
    update_available: boolean;
    error: string | null;
  }[];
  /**
   * Registry digests an image_update deployment was queued for: a deploy that failed or
   * rolled back is not retried every round, only when the tag moves again.
   */
  auto_deployed?: string[];
}

export type StackRow = typeof stacks.$inferSelect;
export type NewStackRow = typeof stacks.$inferInsert;
