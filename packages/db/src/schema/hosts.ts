import { integer, sqliteTable, text } from 'drizzle-orm/sqlite-core';

/** What the last health check of a host found. */
export interface HostNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  state: string;
  availability: string;
}

/**
 * A Docker engine stacks are deployed to. The row `local` (the engine the server reaches
 * by default) always exists. Secret columns hold SecretBox ciphertext.
 */
export const hosts = sqliteTable('hosts', {
  id: text('id').primaryKey(),
  name: text('name').notNull().unique(),
  /** `ssh://user@host[:port]`, `tcp://host:port` (TLS client certificates) or `unix:///path`; null = the server's own DOCKER_HOST. */
  dockerHost: text('docker_host'),
  sshPrivateKeyEnc: text('ssh_private_key_enc'),
  /** known_hosts lines the host's SSH key must match (pinned; never "accept any"). */
  sshKnownHosts: text('ssh_known_hosts'),
  tlsCaEnc: text('tls_ca_enc'),
  tlsCertEnc: text('tls_cert_enc'),
  tlsKeyEnc: text('tls_key_enc'),
  /** This host's own cap on deploys at once (the server-wide cap still holds); null = only the server's. */
  maxConcurrentDeploys: integer('max_concurrent_deploys'),
  /** The operator says this host is a Swarm manager stacks may target with engine `swarm`. */
  swarm: integer('swarm', { mode: 'boolean' }).notNull().default(false),
  reachable: integer('reachable', { mode: 'boolean' }),
  engineVersion: text('engine_version'),
  composeVersion: text('compose_version'),
  swarmState: text('swarm_state').$type<'inactive' | 'manager' | 'worker'>(),
  nodes: text('nodes', { mode: 'json' }).$type<HostNode[]>(),
  lastCheckedAt: text('last_checked_at'),
  error: text('error'),
  createdAt: text('created_at').notNull(),
  updatedAt: text('updated_at').notNull(),
});

export type HostRow = typeof hosts.$inferSelect;
export type NewHostRow = typeof hosts.$inferInsert;
