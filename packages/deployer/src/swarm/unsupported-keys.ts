/**
 * What `docker stack deploy` does not do that compose does. Swarm rejects some keys and
 * silently ignores others; either way the stack would not run as its file says, so a
 * Swarm deployment refuses them all, each with what to write instead.
 */

/** One key of compose's model that a Swarm stack cannot honour. */
export interface SwarmProblem {
  /** The service it is in; undefined for a top-level key. */
  service?: string;
  /** The key's path, e.g. `restart` or `ports[0].host_ip`. */
  key: string;
  /** What to do instead. */
  fix: string;
}

const RESOURCES = 'use deploy.resources.limits / deploy.resources.reservations';
const NO_EQUIVALENT = 'remove it: Swarm services have no equivalent';

/** Service keys Swarm ignores or rejects, with the fix. */
const REFUSED: Record<string, string> = {
  build: 'build the image, push it to a registry every node can pull from, and set image:',
  container_name: 'remove it: Swarm names tasks <stack>_<service>.<n> itself',
  restart: 'use deploy.restart_policy (condition: any | on-failure | none)',
  links: 'remove it: services reach each other by service name on a shared network',
  external_links: 'remove it: attach both stacks to one external overlay network',
  network_mode:
    'use networks: (for the host network, an external network named host: networks: {hostnet: {external: true, name: host}})',
  scale: 'use deploy.replicas',
  cpus: RESOURCES,
  cpu_shares: RESOURCES,
  cpu_quota: RESOURCES,
  cpu_period: RESOURCES,
  cpu_count: RESOURCES,
  cpu_percent: RESOURCES,
  cpu_rt_period: RESOURCES,
  cpu_rt_runtime: RESOURCES,
  cpuset: RESOURCES,
  mem_limit: RESOURCES,
  mem_reservation: RESOURCES,
  memswap_limit: RESOURCES,
  mem_swappiness: RESOURCES,
  oom_kill_disable: RESOURCES,
  oom_score_adj: NO_EQUIVALENT,
  pids_limit: 'use deploy.resources.limits.pids',
  blkio_config: NO_EQUIVALENT,
  devices: NO_EQUIVALENT,
  device_cgroup_rules: NO_EQUIVALENT,
  gpus: 'use deploy.resources.reservations.generic_resources',
  privileged:
    'remove it: Swarm services cannot run privileged; grant only what it needs with cap_add',
  security_opt: NO_EQUIVALENT,
  userns_mode: NO_EQUIVALENT,
  cgroup_parent: NO_EQUIVALENT,
  cgroup: NO_EQUIVALENT,
  ipc: NO_EQUIVALENT,
  pid: NO_EQUIVALENT,
  uts: NO_EQUIVALENT,
  shm_size: 'mount a tmpfs at /dev/shm: a volumes entry with type: tmpfs',
  tmpfs: 'use a volumes entry with type: tmpfs',
  volumes_from: 'use a named volume in both services',
  mac_address: NO_EQUIVALENT,
  domainname: 'set hostname: to the full name',
  dns_opt: NO_EQUIVALENT,
  group_add: NO_EQUIVALENT,
  runtime: NO_EQUIVALENT,
  storage_opt: NO_EQUIVALENT,
  platform: 'use deploy.placement.platforms, or an image built for the nodes',
  pull_policy: 'remove it: the nodes pull the image on every deploy',
  attach: NO_EQUIVALENT,
  annotations: 'use labels:',
  develop: 'remove it: compose watch does not apply to Swarm',
  post_start: NO_EQUIVALENT,
  pre_stop: NO_EQUIVALENT,
  provider: NO_EQUIVALENT,
  models: NO_EQUIVALENT,
  use_api_socket: NO_EQUIVALENT,
  volume_driver: 'set driver: on the named volume',
  log_driver: 'use logging.driver',
  log_opt: 'use logging.options',
  label_file: 'use labels:',
};

/** Keys Swarm honours (Compose file 3.x as `docker stack deploy` reads it). */
const SUPPORTED = new Set([
  'cap_add',
  'cap_drop',
  'command',
  'configs',
  'credential_spec',
  'deploy',
  'dns',
  'dns_search',
  'entrypoint',
  'environment',
  'extra_hosts',
  'healthcheck',
  'hostname',
  'image',
  'init',
  'isolation',
  'labels',
  'logging',
  'networks',
  'ports',
  'read_only',
  'secrets',
  'stdin_open',
  'stop_grace_period',
  'stop_signal',
  'sysctls',
  'tty',
  'ulimits',
  'user',
  'volumes',
  'working_dir',
]);

/**
 * Keys compose resolved already, or that only order compose's own start: dropped from the
 * stack file rather than refused (profiles were applied by `compose config`, plain
 * `depends_on` ordering does not exist in Swarm, `expose` is documentation).
 */
export const DROPPED_SERVICE_KEYS = new Set(['profiles', 'expose', 'depends_on', 'env_file']);

const TOP_LEVEL = new Set(['name', 'services', 'networks', 'volumes', 'configs', 'secrets']);
const PORT_KEYS = new Set(['target', 'published', 'protocol', 'mode', 'name', 'app_protocol']);

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function portProblems(service: string, ports: unknown): SwarmProblem[] {
  if (!Array.isArray(ports)) return [];
  const out: SwarmProblem[] = [];
  ports.forEach((p, i) => {
    if (!isObj(p)) return;
    for (const k of Object.keys(p)) {
      if (PORT_KEYS.has(k)) continue;
      const fix =
        k === 'host_ip'
          ? 'remove it: Swarm publishes on every address of every node (mode: host publishes on the node running the task)'
          : NO_EQUIVALENT;
      out.push({ service, key: `ports[${i}].${k}`, fix });
    }
    const pub = p.published;
    if (pub !== undefined && pub !== null && pub !== '' && !/^\d+$/.test(String(pub)))
      out.push({
        service,
        key: `ports[${i}].published`,
        fix: `publish one port per entry: Swarm takes no range or address (${String(pub)})`,
      });
  });
  return out;
}

function dependsOnProblems(service: string, deps: unknown): SwarmProblem[] {
  if (!isObj(deps)) return [];
  return Object.entries(deps)
    .filter(([, d]) => isObj(d) && d.condition !== undefined && d.condition !== 'service_started')
    .map(([name, d]) => ({
      service,
      key: `depends_on.${name}.condition`,
      fix: `remove ${String((d as Obj).condition)}: Swarm starts services in no order; make the service retry until ${name} answers`,
    }));
}

function sourceProblems(kind: 'configs' | 'secrets', defs: unknown): SwarmProblem[] {
  if (!isObj(defs)) return [];
  const out: SwarmProblem[] = [];
  for (const [name, def] of Object.entries(defs)) {
    if (!isObj(def) || def.external) continue;
    if (typeof def.file === 'string' || typeof def.content === 'string') continue;
    out.push({
      key: `${kind}.${name}`,
      fix: `give it a file: (or content:); a ${kind === 'configs' ? 'config' : 'secret'} from the environment is not read by docker stack deploy`,
    });
  }
  return out;
}

/**
 * Every key of compose's resolved model (`docker compose config --format json`) that a
 * Swarm stack would not honour. Empty when the stack can be deployed as it is written.
 */
export function swarmProblems(model: unknown): SwarmProblem[] {
  const doc = isObj(model) ? model : {};
  const problems: SwarmProblem[] = [];
  for (const key of Object.keys(doc)) {
    if (!TOP_LEVEL.has(key) && !key.startsWith('x-'))
      problems.push({ key, fix: `remove it: docker stack deploy has no top-level ${key}` });
  }
  const services = isObj(doc.services) ? doc.services : {};
  for (const [service, raw] of Object.entries(services)) {
    if (!isObj(raw)) continue;
    for (const [key, value] of Object.entries(raw)) {
      if (value === null || key.startsWith('x-') || DROPPED_SERVICE_KEYS.has(key)) continue;
      if (SUPPORTED.has(key)) continue;
      problems.push({
        service,
        key,
        fix: REFUSED[key] ?? 'remove it: docker stack deploy does not support it',
      });
    }
    if (!raw.image)
      problems.push({ service, key: 'image', fix: 'set image: to a tag every node can pull' });
    problems.push(...portProblems(service, raw.ports));
    problems.push(...dependsOnProblems(service, raw.depends_on));
  }
  problems.push(
    ...sourceProblems('configs', doc.configs),
    ...sourceProblems('secrets', doc.secrets),
  );
  return problems;
}

/** The refusal as one message for a deployment's error: every key, where, and the fix. */
export function swarmProblemsMessage(problems: SwarmProblem[]): string {
  const list = problems
    .map((p) => `${p.service ? `service ${p.service}: ` : ''}${p.key} (${p.fix})`)
    .join('; ');
  return `this stack cannot run on Swarm as written (${problems.length} key${problems.length === 1 ? '' : 's'} docker stack deploy rejects or ignores): ${list}`;
}
