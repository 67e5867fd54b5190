import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { parse } from 'yaml';
import type { FakeCall, FakeResponse } from './runner';

/**
 * A stand-in for `docker compose config --format json` in unit tests: reads the `-f` files
 * from disk and answers a model in compose's shape for what unit tests use (services,
 * long-syntax volumes with absolute sources, configs, secrets, volumes). It interpolates
 * `${VAR}`, `${VAR:-default}` and `${VAR-default}` from the `--env-file`s, honours YAML merge
 * keys, and is nowhere near compose: the integration tests judge the real one.
 */
export function fakeComposeConfig(call: FakeCall): FakeResponse {
  const files: string[] = [];
  const envFiles: string[] = [];
  for (let i = 0; i < call.args.length; i++) {
    if (call.args[i] === '-f') files.push(call.args[i + 1] ?? '');
    if (call.args[i] === '--env-file') envFiles.push(call.args[i + 1] ?? '');
  }
  const vars: Record<string, string> = {};
  for (const f of envFiles) {
    let text = '';
    try {
      text = readFileSync(f, 'utf8');
    } catch {
      return { exitCode: 1, stderr: `couldn't find env file: ${f}` };
    }
    for (const line of text.split('\n')) {
      const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
      if (!m?.[1]) continue;
      let v = m[2] ?? '';
      if (v.startsWith('"') && v.endsWith('"'))
        v = v.slice(1, -1).replace(/\\(.)/g, (_s, c: string) => (c === 'n' ? '\n' : c));
      vars[m[1]] = v;
    }
  }
  const interpolate = (s: string) =>
    s.replace(
      /\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?-)([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
      (_m, name: string | undefined, op: string | undefined, def: string | undefined, bare) => {
        const key = name ?? (bare as string);
        const v = vars[key];
        if (op === ':-') return v ? v : (def ?? '');
        if (op === '-') return v !== undefined ? v : (def ?? '');
        return v ?? '';
      },
    );
  const deep = (v: unknown): unknown =>
    typeof v === 'string'
      ? interpolate(v)
      : Array.isArray(v)
        ? v.map(deep)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, deep(x)]))
          : v;

  const base = dirname(files[0] ?? '/');
  const abs = (raw: string) => {
    const p = raw.replace(/^~(?=\/|$)/, '/root');
    return normalize(isAbsolute(p) ? p : join(base, p));
  };
  const model: Record<string, Record<string, unknown>> = {
    services: {},
    volumes: {},
    configs: {},
    secrets: {},
    networks: {},
  };
  for (const f of files) {
    let doc: Record<string, unknown>;
    try {
      doc = deep(parse(readFileSync(f, 'utf8'), { merge: true })) as Record<string, unknown>;
    } catch (err) {
      return { exitCode: 1, stderr: `${f}: ${(err as Error).message.split('\n')[0]}` };
    }
    for (const section of ['volumes', 'configs', 'secrets', 'networks'] as const) {
      Object.assign(model[section] as object, (doc[section] as object) ?? {});
    }
    const services = (doc.services ?? {}) as Record<string, Record<string, unknown>>;
    for (const [name, svc] of Object.entries(services)) {
      const out: Record<string, unknown> = { ...(model.services?.[name] as object), ...svc };
      delete out.env_file;
      if (Array.isArray(svc.volumes)) {
        out.volumes = svc.volumes.map((v: unknown) => {
          if (typeof v !== 'string') {
            const o = v as Record<string, unknown>;
            return o.type === 'bind' ? { ...o, source: abs(String(o.source)) } : o;
          }
          const [src = '', target = ''] = v.split(':');
          return /^[./~]/.test(src)
            ? { type: 'bind', source: abs(src), target }
            : { type: 'volume', source: src, target };
        });
      }
      if (typeof svc.build === 'string') out.build = { context: abs(svc.build) };
      (model.services as Record<string, unknown>)[name] = out;
    }
  }
  for (const section of ['configs', 'secrets'] as const) {
    for (const def of Object.values(model[section] ?? {})) {
      const d = def as Record<string, unknown>;
      if (typeof d?.file === 'string') d.file = abs(d.file);
    }
  }
  // Compose names the project and each of its volumes (`<project>_<key>` unless named).
  const project = call.args[call.args.indexOf('-p') + 1] ?? '';
  for (const [key, def] of Object.entries(model.volumes ?? {})) {
    const d = (def ?? {}) as Record<string, unknown>;
    (model.volumes as Record<string, unknown>)[key] = {
      ...d,
      name: d.name ?? (d.external ? key : `${project}_${key}`),
    };
  }
  return { stdout: JSON.stringify({ name: project, ...model }) };
}
