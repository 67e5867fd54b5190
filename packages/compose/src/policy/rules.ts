import { posix } from 'node:path';

/**
 * The host policy's rules (api.md "Host policy"). Each names one way a compose project
 * can reach its host; a violation of any of them is refused unless the operator allows
 * the rule server-wide or for one stack (`policy_exceptions`).
 */
export const POLICY_RULES = {
  host_path:
    'a path on the host outside the stack directory (bind mount, env_file, config or secret file, build context, dockerfile, additional context, include, extends)',
  symlink: 'a path inside the stack directory that is a symlink leading outside it',
  volume_host_path:
    'a named volume whose driver options bind or overlay a host path, or mount a host device or a kernel filesystem (ext4 of /dev/vda, proc)',
  docker_socket: 'the Docker socket (root on the host for whoever holds it)',
  privileged: 'privileged: true (a service, a build, or a lifecycle hook)',
  host_namespace:
    "a host namespace: pid, ipc, uts, userns_mode, cgroup or network_mode 'host', the host network, or a build on it",
  container_namespace:
    "network_mode, pid, ipc or volumes_from naming a container outside the project ('container:<name>')",
  devices: 'devices, device_cgroup_rules or GPU requests (host devices in the container)',
  cap_add: "cap_add beyond Docker's default capabilities",
  security_opt:
    'security_opt other than the default confinement (seccomp, AppArmor or an SELinux type or user), or one that reads a host profile',
  remote_include: 'an include or extends file fetched from a remote git repository or registry',
  compose_setting:
    'a variable (repository .env or compose_variables) that compose takes as its own setting or puts into its own process environment, changing what compose or a program it runs reads, fetches or executes',
  foreign_volume:
    "a named volume that is not the stack's own (`external`, or a `name:` outside the project): another stack's data, or a volume the operator made",
  writable_path:
    'a path compose reads or mounts inside a read-write bind mount of the stack: a container could replace it with a symlink to the host after the check (followed at the next start) or rewrite a compose file before up reads it',
} as const;

export type PolicyRule = keyof typeof POLICY_RULES;
export const POLICY_RULE_NAMES = Object.keys(POLICY_RULES) as PolicyRule[];
export const isPolicyRule = (s: string): s is PolicyRule => Object.hasOwn(POLICY_RULES, s);

/** One thing a stack asks for that the policy does not allow. */
export interface Violation {
  /** The service that asks for it; null for project-level entries (volumes, configs, include). */
  service: string | null;
  rule: PolicyRule;
  /** What was asked for, as compose resolved it (a path, `host`, a capability). */
  value: string;
  /** Where in the model, e.g. `volumes[0].source`. */
  where: string;
  /** What to do: change the file, or how the operator can allow it. */
  fix: string;
}

/** What the operator allows: server-wide, plus one stack's exceptions on top. */
export interface HostPolicy {
  /** Absolute host path prefixes any stack may use; `*` allows every path. */
  allowedHostPaths: readonly string[];
  /** Rules switched off for every stack. */
  allowedRules: readonly PolicyRule[];
}

export const DEFAULT_HOST_POLICY: HostPolicy = { allowedHostPaths: [], allowedRules: [] };

/** A stack's `policy_exceptions`: rule names and absolute host path prefixes. */
export function mergeExceptions(policy: HostPolicy, exceptions: readonly string[]): HostPolicy {
  return {
    allowedHostPaths: [...policy.allowedHostPaths, ...exceptions.filter((e) => e.startsWith('/'))],
    allowedRules: [...policy.allowedRules, ...exceptions.filter(isPolicyRule)],
  };
}

/** Whether an absolute path is under one of the allowed prefixes. */
export function pathAllowed(abs: string, allowed: readonly string[]): boolean {
  const p = posix.normalize(abs);
  return allowed.some((prefix) => {
    if (prefix === '*') return true;
    const a = posix.normalize(prefix).replace(/(.)\/+$/, '$1');
    return p === a || p.startsWith(a === '/' ? '/' : `${a}/`);
  });
}

/** Inside `root` (or root itself), lexically. */
export const isInside = (path: string, root: string) => {
  const p = posix.normalize(path);
  const r = posix.normalize(root).replace(/\/+$/, '');
  return p === r || p.startsWith(`${r}/`);
};

const SOCKET_DIRS = new Set([
  '/run',
  '/var/run',
  '/run/docker',
  '/var/run/docker',
  '/run/containerd',
]);
/** The engine's API socket (or the directory holding it), wherever it is mounted from. */
export const isDockerSocket = (abs: string) =>
  /(^|\/)(docker|dockerd|containerd|podman)\.sock$/.test(abs) ||
  SOCKET_DIRS.has(posix.normalize(abs).replace(/(.)\/+$/, '$1'));

/** Docker's default capability set: adding one of these grants nothing new. */
const DEFAULT_CAPS = new Set([
  'CHOWN',
  'DAC_OVERRIDE',
  'FSETID',
  'FOWNER',
  'MKNOD',
  'NET_RAW',
  'SETGID',
  'SETUID',
  'SETFCAP',
  'SETPCAP',
  'NET_BIND_SERVICE',
  'SYS_CHROOT',
  'KILL',
  'AUDIT_WRITE',
]);

/** How the checker sees the filesystem: the real path of an absolute path (symlinks followed). */
export interface PathResolver {
  /**
   * The real path of `abs`: the deepest existing ancestor resolved with realpath, the rest
   * appended. Never throws.
   */
  realpath(abs: string): string;
}

export interface ModelContext {
  /** Absolute path of the stack directory compose ran in. */
  root: string;
  policy: HostPolicy;
  paths: PathResolver;
  /**
   * Absolute paths of the files compose read to build the model (compose files, env
   * files, includes): no container of the stack may be able to write them.
   */
  readFiles?: readonly string[] | undefined;
  /**
   * Read-write bind sources of the project's containers running now (the version being
   * replaced): until `up` replaces them they can still swap what the new model uses.
   */
  liveWritable?: readonly string[] | undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

const ALLOW_PATH = (p: string) =>
  `use a path inside the stack directory (./data) or a named volume; or an admin adds "${p}" to the stack's policy_exceptions (or the operator to SIMPLEDEPLOY_ALLOWED_HOST_PATHS)`;
const ALLOW_RULE = (rule: PolicyRule) =>
  `remove it; or an admin adds "${rule}" to the stack's policy_exceptions (or the operator to SIMPLEDEPLOY_POLICY_ALLOW)`;

/**
 * A URL or git/OCI reference compose resolves remotely rather than on the host: any
 * `scheme://`, scp-like `user@host:path` (compose's git loader takes any user, not just
 * git@), and the bare forges.
 */
export const isRemoteRef = (s: string) =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(s) ||
  /^[\w.-]+@[\w.-]+:/.test(s) ||
  /^(github\.com|gitlab\.com)\//.test(s);

/** A host path the model uses, kept to check that no container can swap it afterwards. */
interface Used {
  service: string | null;
  where: string;
  abs: string;
  /** A read-write bind mount: the container can write below its source. */
  writable: boolean;
}

/** What one pass over the model collects. */
interface Pass {
  ctx: ModelContext;
  add: (v: Violation) => void;
  used: Used[];
}

const rule = (service: string | null, r: PolicyRule, value: string, where: string): Violation => ({
  service,
  rule: r,
  value,
  where,
  fix: ALLOW_RULE(r),
});

/**
 * Checks compose's resolved model (`docker compose config --format json`) against the
 * policy. Paths in the model are absolute (compose resolved them against the project
 * directory); each is followed through symlinks before it is judged.
 */
export function checkModel(model: unknown, ctx: ModelContext): Violation[] {
  const out: Violation[] = [];
  const add = (v: Violation) => {
    if (!ctx.policy.allowedRules.includes(v.rule)) out.push(v);
  };
  if (!isObj(model)) return out;
  const pass: Pass = { ctx, add, used: [] };
  const networksDecl = isObj(model.networks) ? model.networks : {};
  const services = isObj(model.services) ? model.services : {};
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) continue;
    checkMounts(pass, name, svc);
    checkBuild(pass, name, svc);
    checkPrivileges(pass, name, svc);
    checkNamespaces(pass, name, svc, networksDecl);
    checkDevices(pass, name, svc);
  }
  const volumesDecl = isObj(model.volumes) ? model.volumes : {};
  for (const [name, def] of Object.entries(volumesDecl)) {
    if (!isObj(def)) continue;
    checkVolumeDecl(pass, name, def);
    checkVolumeOwner(pass, name, def, str(model.name));
  }
  for (const section of ['configs', 'secrets'] as const) {
    const entries = isObj(model[section]) ? model[section] : {};
    for (const [name, def] of Object.entries(entries)) {
      if (isObj(def)) usePath(pass, null, `${section}.${name}.file`, str(def.file));
    }
  }
  checkWritable(pass);
  return out;
}

/**
 * A named volume is the stack's own when compose names it `<project>_<key>`; `external`
 * or a `name:` of its choosing reaches a volume someone else made (another stack's data,
 * or one the operator bound to a host path).
 */
function checkVolumeOwner(
  pass: Pass,
  key: string,
  def: Record<string, unknown>,
  project: string | undefined,
): void {
  const name = str(def.name) ?? key;
  if (!def.external && project && name === `${project}_${key}`) return;
  pass.add({
    service: null,
    rule: 'foreign_volume',
    value: `volume ${key}: ${name}${def.external ? ' (external)' : ''}`,
    where: `volumes.${key}`,
    fix: `drop the name:/external: so compose makes the stack its own volume; or ${ALLOW_RULE('foreign_volume').replace(/^remove it; or /, '')}`,
  });
}

/** A host path compose will read or mount: inside the stack dir (for real) or allowed. */
function usePath(
  pass: Pass,
  service: string | null,
  where: string,
  raw: string | undefined,
  writable = false,
): void {
  if (!raw || isRemoteRef(raw) || /^(docker-image|service|target|oci-layout):/.test(raw)) return;
  const abs = posix.isAbsolute(raw) ? posix.normalize(raw) : posix.join(pass.ctx.root, raw);
  pass.used.push({ service, where, abs, writable });
  const v = judgePath(service, where, raw, pass.ctx.root, pass.ctx);
  if (v) pass.add(v);
}

/** Bind mounts (and npipe, the same host path on an engine that takes it) and socket-granting keys. */
function checkMounts(pass: Pass, name: string, svc: Record<string, unknown>): void {
  arr(svc.volumes).forEach((v, i) => {
    if (!isObj(v) || (v.type !== 'bind' && v.type !== 'npipe')) return;
    usePath(pass, name, `volumes[${i}].source`, str(v.source), v.read_only !== true);
  });
  // Newer compose mounts the engine's socket for this key.
  if (svc.use_api_socket === true)
    pass.add(rule(name, 'docker_socket', 'use_api_socket: true', 'use_api_socket'));
}

/** A build runs RUN steps with its own network, privileges and host paths. */
function checkBuild(pass: Pass, name: string, svc: Record<string, unknown>): void {
  const build = isObj(svc.build) ? svc.build : undefined;
  if (!build) return;
  const context = str(build.context);
  usePath(pass, name, 'build.context', context);
  const dockerfile = str(build.dockerfile);
  if (dockerfile && context && !isRemoteRef(context)) {
    const path = posix.isAbsolute(dockerfile) ? dockerfile : posix.join(context, dockerfile);
    usePath(pass, name, 'build.dockerfile', path);
  }
  const extra = isObj(build.additional_contexts) ? build.additional_contexts : {};
  for (const [k, v] of Object.entries(extra))
    usePath(pass, name, `build.additional_contexts.${k}`, str(v));
  const ssh = Array.isArray(build.ssh)
    ? build.ssh
    : isObj(build.ssh)
      ? Object.entries(build.ssh).map(([k, v]) => `${k}=${String(v)}`)
      : [];
  for (const s of ssh) {
    // Strings `id=path`, or objects {id, path} from compose versions that print them so.
    const path = typeof s === 'string' ? s.split('=').slice(1).join('=') : str(isObj(s) && s.path);
    if (path) usePath(pass, name, 'build.ssh', path);
  }
  // A local cache is read from and written to the host by compose itself (BuildKit's client).
  for (const key of ['cache_from', 'cache_to'] as const) {
    arr(build[key]).forEach((c, i) => {
      const local = /(^|,)type=local(,|$)/.test(String(c));
      const path = /(?:^|,)(?:src|dest)=([^,]+)/.exec(String(c))?.[1];
      if (local && path) usePath(pass, name, `build.${key}[${i}]`, path);
    });
  }
  if (build.network === 'host')
    pass.add(rule(name, 'host_namespace', 'build.network: host', 'build.network'));
  if (build.privileged === true)
    pass.add(rule(name, 'privileged', 'build.privileged: true', 'build.privileged'));
  arr(build.entitlements).forEach((e, i) => {
    const r = e === 'network.host' ? 'host_namespace' : 'privileged';
    pass.add(rule(name, r, `build.entitlements: ${String(e)}`, `build.entitlements[${i}]`));
  });
}

function checkPrivileges(pass: Pass, name: string, svc: Record<string, unknown>): void {
  if (svc.privileged === true) pass.add(rule(name, 'privileged', 'true', 'privileged'));
  // Newer compose runs lifecycle hooks as execs that may ask for privileges of their own.
  for (const hook of ['post_start', 'pre_stop'] as const) {
    arr(svc[hook]).forEach((h, i) => {
      if (isObj(h) && h.privileged === true)
        pass.add(rule(name, 'privileged', `${hook}[${i}].privileged: true`, `${hook}[${i}]`));
    });
  }
  arr(svc.cap_add).forEach((c, i) => {
    const cap = String(c).toUpperCase().replace(/^CAP_/, '');
    if (!DEFAULT_CAPS.has(cap)) pass.add(rule(name, 'cap_add', String(c), `cap_add[${i}]`));
  });
  arr(svc.security_opt).forEach((o, i) => {
    if (unconfined(String(o)))
      pass.add(rule(name, 'security_opt', String(o), `security_opt[${i}]`));
  });
}

function checkNamespaces(
  pass: Pass,
  name: string,
  svc: Record<string, unknown>,
  networksDecl: Record<string, unknown>,
): void {
  for (const key of ['pid', 'ipc', 'uts', 'userns_mode', 'cgroup', 'network_mode'] as const) {
    const v = str(svc[key]);
    if (v === 'host') pass.add(rule(name, 'host_namespace', `${key}: host`, key));
    else if (v?.startsWith('container:'))
      pass.add({
        ...rule(name, 'container_namespace', `${key}: ${v}`, key),
        fix: `use service:<name> for a service of this stack; ${ALLOW_RULE('container_namespace')}`,
      });
  }
  // Joining the engine's network named `host` is host networking by another name (compose
  // 2.26 refuses a non-external one at up; judged the same in case a later one does not).
  const nets = isObj(svc.networks) ? Object.keys(svc.networks) : arr(svc.networks).map(String);
  for (const n of nets) {
    const decl = networksDecl[n];
    const real = isObj(decl) ? (str(decl.name) ?? n) : n;
    if (real === 'host')
      pass.add(rule(name, 'host_namespace', `networks: ${n} (the host network)`, `networks.${n}`));
  }
  arr(svc.volumes_from).forEach((f, i) => {
    if (typeof f === 'string' && f.startsWith('container:'))
      pass.add({
        ...rule(name, 'container_namespace', `volumes_from: ${f}`, `volumes_from[${i}]`),
        fix: `name a service of this stack instead; ${ALLOW_RULE('container_namespace')}`,
      });
  });
}

function checkDevices(pass: Pass, name: string, svc: Record<string, unknown>): void {
  arr(svc.devices).forEach((d, i) => {
    const v = isObj(d) ? `${String(d.source ?? '')}:${String(d.target ?? '')}` : String(d);
    pass.add(rule(name, 'devices', v, `devices[${i}]`));
  });
  arr(svc.device_cgroup_rules).forEach((r, i) => {
    pass.add(rule(name, 'devices', String(r), `device_cgroup_rules[${i}]`));
  });
  // GPUs (or any device a driver hands out) requested through deploy or, in newer compose, gpus.
  const deploy = isObj(svc.deploy) ? svc.deploy : {};
  const resources = isObj(deploy.resources) ? deploy.resources : {};
  const reservations = isObj(resources.reservations) ? resources.reservations : {};
  arr(reservations.devices).forEach((d, i) => {
    const caps = isObj(d) ? arr(d.capabilities).map(String).join(',') : String(d);
    pass.add(
      rule(
        name,
        'devices',
        `device request (${caps})`,
        `deploy.resources.reservations.devices[${i}]`,
      ),
    );
  });
  if (svc.gpus !== undefined && svc.gpus !== null)
    pass.add(rule(name, 'devices', `gpus: ${JSON.stringify(svc.gpus)}`, 'gpus'));
}

/** Local-driver filesystems of their own that reach neither the host's files nor its devices. */
const OWN_FILESYSTEMS = new Set(['tmpfs', 'nfs', 'nfs4', 'cifs', 'smb3']);

/**
 * A named volume of the local driver mounts `device` with `type` and `o` on the host. A
 * bind or overlay must stay in the stack directory, with absolute paths (the engine
 * resolves a relative one from its own working directory, `/` under systemd); any other
 * type but tmpfs and network shares mounts a host device (ext4 of /dev/vda) or a kernel
 * view of the host (proc, sysfs). Volumes of other drivers are the plugin's business.
 */
function checkVolumeDecl(pass: Pass, name: string, def: Record<string, unknown>): void {
  if (str(def.driver) && def.driver !== 'local') return;
  const opts = isObj(def.driver_opts) ? def.driver_opts : {};
  const o = String(opts.o ?? '');
  const type = String(opts.type ?? '');
  const device = str(opts.device);
  const where = `volumes.${name}.driver_opts`;
  const hostPaths = volumeHostPaths(type, o, device);
  const ok = hostPaths
    ? hostPaths.length > 0 && hostPaths.every((p) => stays(pass.ctx, p))
    : ownFilesystem(type, device);
  if (ok) {
    // Whichever service mounts the volume can write there.
    for (const abs of hostPaths ?? [])
      pass.used.push({ service: null, where, abs, writable: true });
    return;
  }
  const described = [type && `type=${type}`, o && `o=${o}`, device && `device=${device}`];
  pass.add({
    service: null,
    rule: 'volume_host_path',
    value: `volume ${name}: ${described.filter(Boolean).join(' ')}`,
    where,
    fix: `drop the driver_opts (a plain named volume keeps its data); or ${ALLOW_RULE('volume_host_path').replace(/^remove it; or /, '')}`,
  });
}

/**
 * The host paths a local volume binds or overlays (a bind's device; an overlay's lower,
 * upper and work dirs, its device being a mere label), or undefined when it does neither.
 */
function volumeHostPaths(type: string, o: string, device: string | undefined) {
  const overlayDirs = [...o.matchAll(/(?:lowerdir|upperdir|workdir)=([^,]+)/g)].flatMap((m) =>
    (m[1] ?? '').split(':'),
  );
  const bind = /(^|,)\s*r?bind\s*(,|$)/.test(o) || /^(none|bind)$/.test(type);
  if (!bind && !overlayDirs.length && type !== 'overlay') return undefined;
  return [bind ? device : undefined, ...overlayDirs].filter((p): p is string => !!p);
}

/** Neither bind nor overlay: only mount options, tmpfs or a network share, never a host device. */
function ownFilesystem(type: string, device: string | undefined): boolean {
  if (!type && !device) return true;
  const localDevice = !!device && device.startsWith('/') && !device.startsWith('//');
  return OWN_FILESYSTEMS.has(type) && !localDevice;
}

/** An absolute path that stays in the stack directory, or under an allowed prefix, for real. */
function stays(ctx: ModelContext, p: string): boolean {
  if (!posix.isAbsolute(p)) return false;
  const abs = posix.normalize(p);
  const real = ctx.paths.realpath(abs);
  return (
    (isInside(abs, ctx.root) && isInside(real, ctx.root)) ||
    (pathAllowed(abs, ctx.policy.allowedHostPaths) &&
      pathAllowed(real, ctx.policy.allowedHostPaths))
  );
}

/**
 * No path the model uses may lie below the source of a read-write bind mount, and no file
 * compose read may lie in one: a container writing there could swap the path for a
 * symlink to the host after this check (the engine follows it at every container start)
 * or rewrite a compose file between the check and `up`. The source itself is fine: the
 * container cannot replace the directory it is mounted on.
 */
function checkWritable(pass: Pass): void {
  const { ctx } = pass;
  const real = (p: string) => ctx.paths.realpath(posix.normalize(p));
  const live = (ctx.liveWritable ?? [])
    .filter((abs) => isInside(real(abs), real(ctx.root)))
    .map((abs) => ({ service: null, where: 'a running container', abs, writable: true }));
  const writable = [...pass.used.filter((u) => u.writable), ...live].map((u) => ({
    ...u,
    real: real(u.abs),
  }));
  if (!writable.length) return;
  const rel = (p: string) =>
    isInside(p, ctx.root) ? `./${posix.relative(ctx.root, p)}`.replace(/^\.\/$/, '.') : p;
  const report = (service: string | null, where: string, path: string, strict: boolean) => {
    const r = real(path);
    const over = writable.find((w) => isInside(r, w.real) && (!strict || r !== w.real));
    if (!over) return;
    const by = over.service
      ? `service ${over.service}`
      : over.where === 'a running container'
        ? 'a container of the running version'
        : `the volume of ${over.where}`;
    pass.add({
      service,
      rule: 'writable_path',
      value: `${rel(path)} is inside ${rel(over.abs)}, mounted read-write by ${by}`,
      where,
      fix:
        over.where === 'a running container'
          ? `keep ${rel(path)} out of ${rel(over.abs)}, which the running version mounts read-write, until it is replaced; or an admin adds "writable_path" to the stack's policy_exceptions`
          : `mount ${rel(over.abs)} read-only (:ro) in ${by}, or keep ${rel(path)} out of it; or an admin adds "writable_path" to the stack's policy_exceptions`,
    });
  };
  for (const u of pass.used) report(u.service, u.where, u.abs, true);
  for (const f of ctx.readFiles ?? []) report(null, `read by compose: ${rel(f)}`, f, false);
}

/**
 * Judges one path compose will read or mount: inside the stack directory for real (after
 * symlinks), or under an allowed prefix. `base` is the directory relative paths start from.
 */
export function judgePath(
  service: string | null,
  where: string,
  raw: string,
  base: string,
  ctx: ModelContext,
): Violation | undefined {
  const { policy } = ctx;
  const abs = posix.isAbsolute(raw) ? posix.normalize(raw) : posix.join(base, raw);
  const real = ctx.paths.realpath(abs);
  if (isDockerSocket(real) || isDockerSocket(abs)) {
    if (pathAllowed(real, policy.allowedHostPaths)) return undefined;
    return { service, rule: 'docker_socket', value: raw, where, fix: ALLOW_RULE('docker_socket') };
  }
  if (isInside(abs, ctx.root)) {
    if (isInside(real, ctx.root) || pathAllowed(real, policy.allowedHostPaths)) return undefined;
    return {
      service,
      rule: 'symlink',
      value: `${raw} -> ${real}`,
      where,
      fix: 'remove the symlink from the stack directory (a container may have written it); the stack directory is rewritten from the version on the next deploy',
    };
  }
  if (pathAllowed(abs, policy.allowedHostPaths) && pathAllowed(real, policy.allowedHostPaths))
    return undefined;
  return { service, rule: 'host_path', value: raw, where, fix: ALLOW_PATH(real) };
}

/**
 * security_opt values other than the default confinement. A seccomp value other than the
 * builtin is a host file compose reads; any AppArmor profile but docker-default may be
 * unconfined on the host (Ubuntu ships many with flags=(unconfined)); an SELinux type,
 * user or role can be spc_t/unconfined_t. An MCS level only narrows.
 */
function unconfined(opt: string): boolean {
  const at = opt.search(/[=:]/);
  const [key, value] = at < 0 ? [opt, ''] : [opt.slice(0, at), opt.slice(at + 1)];
  switch (key) {
    case 'no-new-privileges':
      return false;
    case 'seccomp':
      return value !== 'builtin';
    case 'apparmor':
      return value !== 'docker-default';
    case 'label':
      return !value.startsWith('level:');
    default:
      return true;
  }
}

/** One line per violation, for a deployment log or an error message. */
export function describeViolation(v: Violation): string {
  return `${v.service ? `service ${v.service}` : 'project'}: ${v.rule} (${v.where}: ${v.value}); ${v.fix}`;
}
