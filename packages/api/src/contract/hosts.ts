import { z } from 'zod';
import { named, nullableTime, time } from './common';
import { Deployment } from './deployment';

const secret = z.string().max(65536).nullable();

const hostFields = {
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/),
  docker_host: z
    .string()
    .max(512)
    .describe(
      'ssh://user@host[:port], tcp://host:port (TLS client certificates) or unix:///path.sock',
    ),
  ssh_private_key: secret.describe('unencrypted OpenSSH or PEM private key (secret, write-only)'),
  ssh_known_hosts: z
    .string()
    .max(65536)
    .nullable()
    .describe('known_hosts lines pinning the host key; unknown keys are never accepted'),
  tls_ca: secret.describe('PEM CA certificate of the engine (secret, write-only)'),
  tls_cert: secret.describe('PEM client certificate (secret, write-only)'),
  tls_key: secret.describe('PEM client key (secret, write-only)'),
  max_concurrent_deploys: z
    .number()
    .int()
    .min(1)
    .max(100)
    .nullable()
    .describe("this host's own cap on deploys at once; the server-wide cap still holds"),
  swarm: z
    .boolean()
    .describe('the host is a swarm manager that stacks with engine "swarm" may target'),
};

/** `POST /api/v1/hosts`. */
export const HostCreate = named.request(
  'HostCreate',
  z.strictObject(hostFields).partial().required({ name: true, docker_host: true }),
);
/** `PATCH /api/v1/hosts/{host}`: only the fields sent change. */
export const HostPatch = named.request('HostPatch', z.strictObject(hostFields).partial());

const HostNode = z.strictObject({
  id: z.string(),
  hostname: z.string(),
  role: z.enum(['manager', 'worker']),
  state: z.string(),
  availability: z.string(),
});

export const Host = named.response(
  'Host',
  z.strictObject({
    id: z.string(),
    name: z.string(),
    docker_host: z.string().nullable().describe("null for local: the server's own DOCKER_HOST"),
    ssh_known_hosts: z.string().nullable(),
    has_ssh_private_key: z.boolean(),
    has_tls_ca: z.boolean(),
    has_tls_cert: z.boolean(),
    has_tls_key: z.boolean(),
    max_concurrent_deploys: z.number().int().nullable(),
    swarm_enabled: z.boolean().describe('what the operator set with "swarm"'),
    reachable: z.boolean().nullable().describe('null until the first check'),
    engine_version: z.string().nullable(),
    compose_version: z.string().nullable(),
    swarm: z
      .enum(['inactive', 'manager', 'worker'])
      .nullable()
      .describe('as the engine reports it'),
    nodes: z.array(HostNode).nullable().describe("a swarm manager's nodes"),
    last_checked_at: nullableTime,
    error: z.string().nullable(),
    stacks: z.number().int().describe('stacks that target this host'),
    created_at: time,
    updated_at: time,
  }),
);

export const HostResponse = named.response('HostResponse', z.strictObject({ host: Host }));
export const HostList = named.response('HostList', z.strictObject({ hosts: z.array(Host) }));
export const HostDeleted = named.response(
  'HostDeleted',
  z.strictObject({ deleted: z.literal(true), host: Host }),
);

/** `POST /api/v1/stacks/{stack}/move`. */
export const MoveBody = named.request(
  'MoveBody',
  z.strictObject({ host: z.string().min(1).describe('name or id of the host to move to') }),
);
export const MoveResult = named.response('MoveResult', z.strictObject({ deployment: Deployment }));
