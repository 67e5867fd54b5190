import { type Clock, conflict, type SecretBox, validation } from '@simpledeploy/core';
import {
  countStacksOnHost,
  type Db,
  deleteHost,
  findHost,
  type HostNode,
  type HostRow,
  insertHost,
  listHosts,
  updateHost,
} from '@simpledeploy/db';
import type { HostConnections } from './connections';
import { parseDockerHost } from './docker-host-url';
import { parseKnownHosts } from './known-hosts';
import { ssh2 } from './ssh2-module';

/** `POST /api/v1/hosts` and `PATCH` bodies, already shaped by the api's contract. */
export interface HostInput {
  name?: string | undefined;
  docker_host?: string | null | undefined;
  ssh_private_key?: string | null | undefined;
  ssh_known_hosts?: string | null | undefined;
  tls_ca?: string | null | undefined;
  tls_cert?: string | null | undefined;
  tls_key?: string | null | undefined;
  max_concurrent_deploys?: number | null | undefined;
  swarm?: boolean | undefined;
}

/** A host as the API shows it: secrets only as `has_*`. */
export interface HostView {
  id: string;
  name: string;
  docker_host: string | null;
  ssh_known_hosts: string | null;
  has_ssh_private_key: boolean;
  has_tls_ca: boolean;
  has_tls_cert: boolean;
  has_tls_key: boolean;
  max_concurrent_deploys: number | null;
  swarm_enabled: boolean;
  reachable: boolean | null;
  engine_version: string | null;
  compose_version: string | null;
  swarm: 'inactive' | 'manager' | 'worker' | null;
  nodes: HostNode[] | null;
  last_checked_at: string | null;
  error: string | null;
  stacks: number;
  created_at: string;
  updated_at: string;
}

export const LOCAL_HOST = 'local';
const NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export interface HostServiceDeps {
  db: Db;
  clock: Clock;
  secrets: SecretBox;
  ids: (prefix: string) => string;
  connections: HostConnections;
  /** Checks a host right after it was created or changed (not awaited). */
  checkSoon?: (host: HostRow) => void;
}

/** What makes a host reachable, checked together so every problem is named at once. */
function connectionProblems(row: HostRow, input: HostInput): string[] {
  const problems: string[] = [];
  const dockerHost = input.docker_host !== undefined ? input.docker_host : row.dockerHost;
  const addr = parseDockerHost(dockerHost);
  const has = (field: keyof HostInput, stored: string | null) =>
    input[field] !== undefined ? !!input[field] : !!stored;
  if (addr.kind === 'ssh') {
    if (!has('ssh_private_key', row.sshPrivateKeyEnc))
      problems.push('ssh_private_key is required for an ssh:// host');
    const known =
      input.ssh_known_hosts !== undefined
        ? (input.ssh_known_hosts ?? '')
        : (row.sshKnownHosts ?? '');
    if (!parseKnownHosts(known).length)
      problems.push(
        `ssh_known_hosts must pin the host's key (a line like "${addr.host} ssh-ed25519 AAAA…", from ssh-keyscan checked out of band); unknown keys are never accepted`,
      );
  }
  if (addr.kind === 'tcp') {
    for (const [f, stored] of [
      ['tls_ca', row.tlsCaEnc],
      ['tls_cert', row.tlsCertEnc],
      ['tls_key', row.tlsKeyEnc],
    ] as const)
      if (!has(f, stored))
        problems.push(
          `${f} is required for a tcp:// host: only TLS with client certificates is accepted`,
        );
  }
  if (input.ssh_private_key) {
    const parsed = ssh2().utils.parseKey(input.ssh_private_key);
    if (parsed instanceof Error)
      problems.push(
        `ssh_private_key cannot be read (${parsed.message}); send an unencrypted OpenSSH or PEM private key`,
      );
  }
  for (const f of ['tls_ca', 'tls_cert', 'tls_key'] as const) {
    const v = input[f];
    if (v && !/-----BEGIN [A-Z ]+-----/.test(v)) problems.push(`${f} must be PEM text`);
  }
  return problems;
}

/** Hosts as a resource: create, change, delete (not while a stack targets it), list. */
export function createHostService(deps: HostServiceDeps) {
  const { db, secrets } = deps;
  const seal = (v: string | null | undefined) => (v ? secrets.encrypt(v) : null);

  function view(h: HostRow): HostView {
    return {
      id: h.id,
      name: h.name,
      docker_host: h.dockerHost,
      ssh_known_hosts: h.sshKnownHosts,
      has_ssh_private_key: !!h.sshPrivateKeyEnc,
      has_tls_ca: !!h.tlsCaEnc,
      has_tls_cert: !!h.tlsCertEnc,
      has_tls_key: !!h.tlsKeyEnc,
      max_concurrent_deploys: h.maxConcurrentDeploys,
      swarm_enabled: h.swarm,
      reachable: h.reachable,
      engine_version: h.engineVersion,
      compose_version: h.composeVersion,
      swarm: h.swarmState,
      nodes: h.nodes,
      last_checked_at: h.lastCheckedAt,
      error: h.error,
      stacks: countStacksOnHost(db, h.id),
      created_at: h.createdAt,
      updated_at: h.updatedAt,
    };
  }

  function check(row: HostRow, input: HostInput) {
    if (input.name !== undefined && !NAME.test(input.name))
      throw validation('name must match ^[a-z0-9][a-z0-9_-]{0,62}$', { field: 'name' });
    if (input.name !== undefined && input.name !== row.name) {
      const other = findHost(db, input.name);
      if (other && other.id !== row.id)
        throw conflict(`a host named "${input.name}" already exists`, { field: 'name' });
    }
    if (input.docker_host !== undefined) parseDockerHost(input.docker_host);
    const mc = input.max_concurrent_deploys;
    if (mc !== undefined && mc !== null && (!Number.isInteger(mc) || mc < 1 || mc > 100))
      throw validation('max_concurrent_deploys must be a whole number from 1 to 100, or null', {
        field: 'max_concurrent_deploys',
      });
    const problems = connectionProblems(row, input);
    if (problems.length) throw validation(problems.join('; '), { problems });
  }

  function patchOf(input: HostInput): Partial<HostRow> {
    const p: Partial<HostRow> = {};
    if (input.name !== undefined) p.name = input.name;
    if (input.docker_host !== undefined) p.dockerHost = input.docker_host;
    if (input.ssh_private_key !== undefined) p.sshPrivateKeyEnc = seal(input.ssh_private_key);
    if (input.ssh_known_hosts !== undefined) p.sshKnownHosts = input.ssh_known_hosts;
    if (input.tls_ca !== undefined) p.tlsCaEnc = seal(input.tls_ca);
    if (input.tls_cert !== undefined) p.tlsCertEnc = seal(input.tls_cert);
    if (input.tls_key !== undefined) p.tlsKeyEnc = seal(input.tls_key);
    if (input.max_concurrent_deploys !== undefined)
      p.maxConcurrentDeploys = input.max_concurrent_deploys;
    if (input.swarm !== undefined) p.swarm = input.swarm;
    return p;
  }

  const requireHost = (idOrName: string) => deps.connections.requireHost(idOrName);

  return {
    view,
    requireHost,
    list: () => listHosts(db).map(view),
    get: (idOrName: string) => view(requireHost(idOrName)),

    create(input: HostInput): HostView {
      if (!input.name) throw validation('name is required', { field: 'name' });
      if (!input.docker_host)
        throw validation(
          'docker_host is required: ssh://user@host[:port], tcp://host:port or unix:///path.sock',
          { field: 'docker_host' },
        );
      const now = deps.clock.now().toISOString();
      const blank: HostRow = {
        id: '',
        name: input.name,
        dockerHost: null,
        sshPrivateKeyEnc: null,
        sshKnownHosts: null,
        tlsCaEnc: null,
        tlsCertEnc: null,
        tlsKeyEnc: null,
        maxConcurrentDeploys: null,
        swarm: false,
        reachable: null,
        engineVersion: null,
        composeVersion: null,
        swarmState: null,
        nodes: null,
        lastCheckedAt: null,
        error: null,
        createdAt: now,
        updatedAt: now,
      };
      check({ ...blank, name: '' }, input);
      const row = insertHost(db, {
        ...blank,
        ...patchOf(input),
        id: deps.ids('host'),
        createdAt: now,
        updatedAt: now,
      });
      deps.checkSoon?.(row);
      return view(row);
    },

    async update(idOrName: string, input: HostInput): Promise<HostView> {
      const row = requireHost(idOrName);
      if (row.id === LOCAL_HOST) {
        const fixed = (
          ['name', 'docker_host', 'ssh_private_key', 'tls_ca', 'tls_cert', 'tls_key'] as const
        ).filter((f) => input[f] !== undefined);
        if (fixed.length)
          throw validation(
            `the local host is the server's own engine (DOCKER_HOST): only max_concurrent_deploys and swarm can change, not ${fixed.join(', ')}`,
            { fields: fixed },
          );
      }
      check(row, input);
      const updated =
        updateHost(db, row.id, {
          ...patchOf(input),
          updatedAt: deps.clock.now().toISOString(),
        }) ?? row;
      await deps.connections.forget(row.id);
      deps.checkSoon?.(updated);
      return view(updated);
    },

    async remove(idOrName: string): Promise<HostView> {
      const row = requireHost(idOrName);
      if (row.id === LOCAL_HOST)
        throw conflict('the local host always exists and cannot be deleted');
      const n = countStacksOnHost(db, row.id);
      if (n > 0)
        throw conflict(
          `host ${row.name} still runs ${n} stack${n === 1 ? '' : 's'}: move or delete them first`,
          { stacks: n },
        );
      const v = view(row);
      deleteHost(db, row.id);
      await deps.connections.forget(row.id);
      return v;
    },
  };
}

export type HostService = ReturnType<typeof createHostService>;
