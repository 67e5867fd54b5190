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
  volume_host_path: 'a named volume whose driver options bind or overlay a host path',
  docker_socket: 'the Docker socket (root on the host for whoever holds it)',
  privileged: 'privileged: true',
  host_namespace:
    "a host namespace: pid, ipc, uts, userns_mode, cgroup or network_mode 'host', or the host network",
  container_namespace:
    "network_mode, pid, ipc or volumes_from naming a container outside the project ('container:<name>')",
  devices: 'devices or device_cgroup_rules (host devices in the container)',
  cap_add: "cap_add beyond Docker's default capabilities",
  security_opt:
    'security_opt that disables confinement (seccomp, AppArmor or SELinux unconfined) or reads a host profile',
  remote_include: 'an include fetched from a remote git repository or registry',
  compose_setting:
    'a compose setting in the repository .env that changes what compose reads or fetches',
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
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

const ALLOW_PATH = (p: string) =>
  `use a path inside the stack directory (./data) or a named volume; or an admin adds "${p}" to the stack's policy_exceptions (or the operator to SIMPLEDEPLOY_ALLOWED_HOST_PATHS)`;
const ALLOW_RULE = (rule: PolicyRule) =>
  `remove it; or an admin adds "${rule}" to the stack's policy_exceptions (or the operator to SIMPLEDEPLOY_POLICY_ALLOW)`;

/** A URL or git/OCI reference compose resolves remotely rather than on the host. */
export const isRemoteRef = (s: string) =>
  /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || /^git@/.test(s) || /^(github\.com|gitlab\.com)\//.test(s);

/**
 * Checks compose's resolved model (`docker compose config --format json`) against the
 * policy. Paths in the model are absolute (compose resolved them against the project
 * directory); each is followed through symlinks before it is judged.
 */
export function checkModel(model: unknown, ctx: ModelContext): Violation[] {
  const out: Violation[] = [];
  const { policy } = ctx;
  const ruleOff = (r: PolicyRule) => policy.allowedRules.includes(r);
  const add = (v: Violation) => {
    if (!ruleOff(v.rule)) out.push(v);
  };
  if (!isObj(model)) return out;

  /** A host path compose will read or mount: inside the stack dir (for real) or allowed. */
  const hostPath = (service: string | null, where: string, raw: string | undefined) => {
    if (!raw || isRemoteRef(raw) || /^(docker-image|service|target|oci-layout):/.test(raw)) return;
    const v = judgePath(service, where, raw, ctx.root, ctx);
    if (v) add(v);
  };

  const volumesDecl = isObj(model.volumes) ? model.volumes : {};
  const networksDecl = isObj(model.networks) ? model.networks : {};
  const services = isObj(model.services) ? model.services : {};
  for (const [name, svc] of Object.entries(services)) {
    if (!isObj(svc)) continue;
    const vols = Array.isArray(svc.volumes) ? svc.volumes : [];
    vols.forEach((v, i) => {
      if (!isObj(v)) return;
      if (v.type === 'bind') hostPath(name, `volumes[${i}].source`, str(v.source));
    });
    const build = isObj(svc.build) ? svc.build : undefined;
    if (build) {
      const context = str(build.context);
      hostPath(name, 'build.context', context);
      const dockerfile = str(build.dockerfile);
      if (dockerfile && context && !isRemoteRef(context)) {
        hostPath(
          name,
          'build.dockerfile',
          posix.isAbsolute(dockerfile) ? dockerfile : posix.join(context, dockerfile),
        );
      }
      const extra = isObj(build.additional_contexts) ? build.additional_contexts : {};
      for (const [k, v] of Object.entries(extra))
        hostPath(name, `build.additional_contexts.${k}`, str(v));
      const ssh = Array.isArray(build.ssh)
        ? build.ssh
        : isObj(build.ssh)
          ? Object.entries(build.ssh).map(([k, v]) => `${k}=${String(v)}`)
          : [];
      for (const s of ssh) {
        const path = typeof s === 'string' ? s.split('=').slice(1).join('=') : '';
        if (path) hostPath(name, 'build.ssh', path);
      }
    }
    if (svc.privileged === true)
      add({
        service: name,
        rule: 'privileged',
        value: 'true',
        where: 'privileged',
        fix: ALLOW_RULE('privileged'),
      });
    for (const key of ['pid', 'ipc', 'uts', 'userns_mode', 'cgroup', 'network_mode'] as const) {
      const v = str(svc[key]);
      if (!v) continue;
      if (v === 'host')
        add({
          service: name,
          rule: 'host_namespace',
          value: `${key}: host`,
          where: key,
          fix: ALLOW_RULE('host_namespace'),
        });
      else if (v.startsWith('container:'))
        add({
          service: name,
          rule: 'container_namespace',
          value: `${key}: ${v}`,
          where: key,
          fix: `use service:<name> for a service of this stack; ${ALLOW_RULE('container_namespace')}`,
        });
    }
    // Joining the engine's network named `host` is host networking by another name.
    const nets = isObj(svc.networks)
      ? Object.keys(svc.networks)
      : Array.isArray(svc.networks)
        ? svc.networks.map(String)
        : [];
    for (const n of nets) {
      const decl = networksDecl[n];
      const real = isObj(decl) ? (str(decl.name) ?? n) : n;
      if (real === 'host' && isObj(decl) && decl.external)
        add({
          service: name,
          rule: 'host_namespace',
          value: `networks: ${n} (the host network)`,
          where: `networks.${n}`,
          fix: ALLOW_RULE('host_namespace'),
        });
    }
    const from = Array.isArray(svc.volumes_from) ? svc.volumes_from : [];
    from.forEach((f, i) => {
      if (typeof f === 'string' && f.startsWith('container:'))
        add({
          service: name,
          rule: 'container_namespace',
          value: `volumes_from: ${f}`,
          where: `volumes_from[${i}]`,
          fix: `name a service of this stack instead; ${ALLOW_RULE('container_namespace')}`,
        });
    });
    const devices = Array.isArray(svc.devices) ? svc.devices : [];
    devices.forEach((d, i) => {
      const v = isObj(d) ? `${String(d.source ?? '')}:${String(d.target ?? '')}` : String(d);
      add({
        service: name,
        rule: 'devices',
        value: v,
        where: `devices[${i}]`,
        fix: ALLOW_RULE('devices'),
      });
    });
    const rules = Array.isArray(svc.device_cgroup_rules) ? svc.device_cgroup_rules : [];
    rules.forEach((r, i) => {
      add({
        service: name,
        rule: 'devices',
        value: String(r),
        where: `device_cgroup_rules[${i}]`,
        fix: ALLOW_RULE('devices'),
      });
    });
    const caps = Array.isArray(svc.cap_add) ? svc.cap_add : [];
    caps.forEach((c, i) => {
      const cap = String(c).toUpperCase().replace(/^CAP_/, '');
      if (!DEFAULT_CAPS.has(cap))
        add({
          service: name,
          rule: 'cap_add',
          value: String(c),
          where: `cap_add[${i}]`,
          fix: ALLOW_RULE('cap_add'),
        });
    });
    const secOpts = Array.isArray(svc.security_opt) ? svc.security_opt : [];
    secOpts.forEach((o, i) => {
      const opt = String(o);
      if (unconfined(opt))
        add({
          service: name,
          rule: 'security_opt',
          value: opt,
          where: `security_opt[${i}]`,
          fix: ALLOW_RULE('security_opt'),
        });
    });
  }

  for (const [name, def] of Object.entries(volumesDecl)) {
    if (!isObj(def)) continue;
    const opts = isObj(def.driver_opts) ? def.driver_opts : {};
    const o = String(opts.o ?? '');
    const type = String(opts.type ?? '');
    const device = str(opts.device);
    const binds =
      /(^|,)\s*r?bind\s*(,|$)/.test(o) ||
      /lowerdir|upperdir|workdir/.test(o) ||
      /^(none|overlay|bind)$/.test(type);
    if (!binds) continue;
    const paths = [
      device,
      ...[...o.matchAll(/(?:lowerdir|upperdir|workdir)=([^,]+)/g)].flatMap((m) =>
        (m[1] ?? '').split(':'),
      ),
    ].filter((p): p is string => !!p);
    const inside = paths.every((p) => {
      const abs = posix.isAbsolute(p) ? posix.normalize(p) : posix.join(ctx.root, p);
      const real = ctx.paths.realpath(abs);
      return (
        (isInside(abs, ctx.root) && isInside(real, ctx.root)) ||
        (pathAllowed(abs, policy.allowedHostPaths) && pathAllowed(real, policy.allowedHostPaths))
      );
    });
    if (paths.length && inside) continue;
    add({
      service: null,
      rule: 'volume_host_path',
      value: `volume ${name}: ${[type && `type=${type}`, o && `o=${o}`, device && `device=${device}`].filter(Boolean).join(' ')}`,
      where: `volumes.${name}.driver_opts`,
      fix: `drop the driver_opts (a plain named volume keeps its data); or ${ALLOW_RULE('volume_host_path').replace(/^remove it; or /, '')}`,
    });
  }

  for (const section of ['configs', 'secrets'] as const) {
    const entries = isObj(model[section]) ? model[section] : {};
    for (const [name, def] of Object.entries(entries)) {
      if (isObj(def)) hostPath(null, `${section}.${name}.file`, str(def.file));
    }
  }
  return out;
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

/** security_opt values that take confinement away, or make the CLI read a host file. */
function unconfined(opt: string): boolean {
  const [key = '', value = ''] =
    opt.split(/[=:]/, 2).length === 2
      ? [opt.slice(0, opt.search(/[=:]/)), opt.slice(opt.search(/[=:]/) + 1)]
      : [opt, ''];
  switch (key) {
    case 'no-new-privileges':
      return false;
    case 'seccomp':
    case 'apparmor':
    case 'systempaths':
      // A profile name is fine for AppArmor; a seccomp value other than a builtin is a host file.
      if (value === 'unconfined') return true;
      return key === 'seccomp' && value !== 'builtin';
    case 'label':
      return value === 'disable' || value === 'disabled';
    default:
      return true;
  }
}

/** One line per violation, for a deployment log or an error message. */
export function describeViolation(v: Violation): string {
  return `${v.service ? `service ${v.service}` : 'project'}: ${v.rule} (${v.where}: ${v.value}); ${v.fix}`;
}
