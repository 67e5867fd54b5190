import { posix } from 'node:path';
import { type DesiredState, validation } from '@simpledeploy/core';
import { parseDocument } from 'yaml';
import { toJS } from './checks';

/**
 * Which host paths a compose file may reach. A stack's files live in its own directory;
 * relative paths must stay inside it. Absolute host paths (bind mounts such as
 * `/var/run/docker.sock` or `/etc:/host-etc`, env files, secrets) are refused unless
 * the operator allows them by prefix (SIMPLEDEPLOY_ALLOWED_HOST_PATHS); `*` allows all.
 */
export interface HostPathPolicy {
  allowedHostPaths: readonly string[];
}

export const DEFAULT_HOST_PATH_POLICY: HostPathPolicy = { allowedHostPaths: [] };

interface Ctx {
  /** The file being checked, relative to the stack directory (for messages and `..`). */
  file: string;
  /** The field the file came from (`compose`, or the file's path for git stacks). */
  field: string;
  variables: Record<string, string>;
  policy: HostPathPolicy;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);

/**
 * Compose interpolation, enough to see where a path leads: `$$`, `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:+alt}`, `${VAR+alt}`, `${VAR:?err}`.
 * Unknown variables are empty, as compose makes them.
 */
export function interpolate(text: string, vars: Record<string, string>, depth = 0): string {
  if (depth > 5) return text;
  return text.replace(
    /\$(\$|[A-Za-z_][A-Za-z0-9_]*|\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+?])((?:[^{}]|\{[^{}]*\})*))?\})/g,
    (_m, whole: string, name: string | undefined, op: string | undefined, arg = '') => {
      if (whole === '$') return '$';
      const key = name ?? whole;
      const value = Object.hasOwn(vars, key) ? vars[key] : undefined;
      const set = value !== undefined;
      const nonEmpty = set && value !== '';
      const nested = () => interpolate(arg, vars, depth + 1);
      switch (op) {
        case ':-':
          return nonEmpty ? (value ?? '') : nested();
        case '-':
          return set ? (value ?? '') : nested();
        case ':+':
          return nonEmpty ? nested() : '';
        case '+':
          return set ? nested() : '';
        default:
          return value ?? '';
      }
    },
  );
}

/** Reads `KEY=value` lines of a .env file (quotes stripped), for interpolation. */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m?.[1]) continue;
    let v = m[2] ?? '';
    if (/^(['"]).*\1$/.test(v)) v = v.slice(1, -1);
    else v = v.replace(/\s+#.*$/, '');
    out[m[1]] = v;
  }
  return out;
}

/**
 * Checks one path a compose file names. Relative paths resolve against the file's
 * directory and must stay inside the stack directory; absolute ones (and `~`) must
 * be allowed by the policy.
 */
function checkPath(raw: unknown, where: string, ctx: Ctx): void {
  if (typeof raw !== 'string' || raw === '') return;
  const value = interpolate(raw, ctx.variables);
  const shown = value === raw ? `"${raw}"` : `"${raw}" (= "${value}")`;
  if (value.includes('\0')) {
    throw validation(`${ctx.field}: ${where} ${shown} contains a NUL byte`, { field: ctx.field });
  }
  if (value.startsWith('~') || value.startsWith('/') || /^[A-Za-z]:[\\/]/.test(value)) {
    const abs = posix.normalize(value.replace(/^~(?=\/|$)/, '/root'));
    const allowed = ctx.policy.allowedHostPaths.some(
      (p) =>
        p === '*' ||
        abs === posix.normalize(p) ||
        abs.startsWith(`${posix.normalize(p).replace(/\/+$/, '')}/`),
    );
    if (value.startsWith('/') && allowed) return;
    throw validation(
      `${ctx.field}: ${where} ${shown} is a path on the host outside the stack directory; use a path relative to the compose file (e.g. ./data) or a named volume, or ask the operator to allow it in SIMPLEDEPLOY_ALLOWED_HOST_PATHS`,
      { field: ctx.field, path: raw, where },
    );
  }
  const resolved = posix.normalize(posix.join(posix.dirname(ctx.file), value));
  if (resolved === '..' || resolved.startsWith('../')) {
    throw validation(
      `${ctx.field}: ${where} ${shown} leads outside the stack directory with ".."; keep every file the stack uses inside it`,
      { field: ctx.field, path: raw, where },
    );
  }
}

/** A short-syntax volume's host side, if it is a path (compose: starts with `.`, `/` or `~`). */
function shortVolumeSource(spec: string, vars: Record<string, string>): string | undefined {
  const parts = interpolate(spec, vars).split(':');
  const src = parts[0] ?? '';
  if (parts.length < 2 || src === '') return undefined;
  if (/^[./~]/.test(src)) return src;
  // A Windows drive letter (C:\x:/y) is a host path too.
  if (/^[A-Za-z]$/.test(src) && /^[\\/]/.test(parts[1] ?? '')) return `${src}:${parts[1]}`;
  return undefined;
}

/** Files a compose file pulls in (extends, include), relative to the stack directory. */
function referencedFiles(doc: Record<string, unknown>, ctx: Ctx): string[] {
  const out: string[] = [];
  const rel = (p: unknown) =>
    typeof p === 'string'
      ? posix.normalize(posix.join(posix.dirname(ctx.file), interpolate(p, ctx.variables)))
      : undefined;
  for (const svc of Object.values(isObject(doc.services) ? doc.services : {})) {
    if (isObject(svc) && isObject(svc.extends)) {
      const f = rel(svc.extends.file);
      if (f) out.push(f);
    }
  }
  const includes = Array.isArray(doc.include) ? doc.include : doc.include ? [doc.include] : [];
  for (const inc of includes) {
    const paths = isObject(inc) ? inc.path : inc;
    for (const p of Array.isArray(paths) ? paths : [paths]) {
      const f = rel(p);
      if (f) out.push(f);
    }
  }
  return out;
}

/**
 * Refuses a parsed compose file whose bind mounts, env files, `extends`, `include`,
 * build contexts, configs or secrets reach outside the stack directory (`..`), or the
 * host's own files (absolute paths) unless the policy allows them.
 */
export function checkComposePaths(
  doc: Record<string, unknown>,
  opts: {
    field?: string;
    file?: string;
    variables?: Record<string, string>;
    policy?: HostPathPolicy;
  } = {},
): void {
  const ctx: Ctx = {
    field: opts.field ?? 'compose',
    file: opts.file ?? 'compose.yaml',
    variables: opts.variables ?? {},
    policy: opts.policy ?? DEFAULT_HOST_PATH_POLICY,
  };
  const services = isObject(doc.services) ? doc.services : {};
  for (const [name, svc] of Object.entries(services)) {
    if (!isObject(svc)) continue;
    const at = (what: string) => `service ${name} ${what}`;
    for (const v of Array.isArray(svc.volumes) ? svc.volumes : []) {
      if (typeof v === 'string') {
        const src = shortVolumeSource(v, ctx.variables);
        if (src !== undefined) checkPath(src, at('bind mount'), { ...ctx, variables: {} });
      } else if (isObject(v) && v.type === 'bind') {
        checkPath(v.source, at('bind mount'), ctx);
      }
    }
    const envFiles = Array.isArray(svc.env_file) ? svc.env_file : [svc.env_file];
    for (const e of envFiles) checkPath(isObject(e) ? e.path : e, at('env_file'), ctx);
    const labelFiles = Array.isArray(svc.label_file) ? svc.label_file : [svc.label_file];
    for (const l of labelFiles) checkPath(l, at('label_file'), ctx);
    if (isObject(svc.extends)) checkPath(svc.extends.file, at('extends.file'), ctx);
    const build = typeof svc.build === 'string' ? { context: svc.build } : svc.build;
    if (isObject(build)) {
      const context = typeof build.context === 'string' ? build.context : undefined;
      // Remote contexts (git URLs) read nothing from the host.
      if (context && !/^[a-z][a-z0-9+.-]*:\/\/|^git@|^github\.com\//i.test(context)) {
        checkPath(context, at('build.context'), ctx);
        if (typeof build.dockerfile === 'string') {
          checkPath(posix.join(context, build.dockerfile), at('build.dockerfile'), ctx);
        }
      }
    }
  }
  for (const section of ['configs', 'secrets'] as const) {
    const entries = isObject(doc[section]) ? doc[section] : {};
    for (const [name, def] of Object.entries(entries)) {
      if (isObject(def)) checkPath(def.file, `${section.slice(0, -1)} ${name} file`, ctx);
    }
  }
  const volumes = isObject(doc.volumes) ? doc.volumes : {};
  for (const [name, def] of Object.entries(volumes)) {
    const opts2 = isObject(def) && isObject(def.driver_opts) ? def.driver_opts : undefined;
    // A local volume with `o: bind` is a bind mount of `device`.
    if (opts2 && /\bbind\b/.test(String(opts2.o ?? ''))) {
      checkPath(opts2.device, `volume ${name} device`, ctx);
    }
  }
  const includes = Array.isArray(doc.include) ? doc.include : doc.include ? [doc.include] : [];
  for (const inc of includes) {
    if (isObject(inc)) {
      for (const p of Array.isArray(inc.path) ? inc.path : [inc.path]) checkPath(p, 'include', ctx);
      for (const e of Array.isArray(inc.env_file) ? inc.env_file : [inc.env_file])
        checkPath(e, 'include env_file', ctx);
      checkPath(inc.project_directory, 'include project_directory', ctx);
    } else checkPath(inc, 'include', ctx);
  }
}

/**
 * The deploy-time check of a whole desired state (git or inline): every compose file,
 * and every file they pull in with `extends` or `include`, against the policy, with
 * the variables compose would interpolate (the repo's .env, then compose_variables).
 */
export function checkStatePaths(state: DesiredState, policy: HostPathPolicy): void {
  const envVars = state.envFile ? parseEnvFile(state.files[state.envFile] ?? '') : {};
  const variables = { ...envVars, ...state.variables };
  const seen = new Set<string>();
  const queue = [...state.composeFiles];
  while (queue.length && seen.size < 100) {
    const file = queue.shift() ?? '';
    if (seen.has(file)) continue;
    seen.add(file);
    const text = state.files[file];
    // A referenced file that is not in the version: compose itself reports it missing.
    if (text === undefined) continue;
    const doc = parseDocument(text, { uniqueKeys: false });
    if (doc.errors[0]) {
      const line = doc.errors[0].linePos?.[0]?.line;
      throw validation(`${file} is not valid YAML${line ? ` (line ${line})` : ''}`, {
        path: file,
      });
    }
    const value = toJS(doc, file);
    if (!isObject(value)) continue;
    const ctx = { field: file, file, variables, policy };
    checkComposePaths(value, ctx);
    queue.push(...referencedFiles(value, ctx));
  }
}
