import { posix } from 'node:path';
import { parseDocument } from 'yaml';
import {
  isRemoteRef,
  judgePath,
  type ModelContext,
  type PolicyRule,
  type Violation,
} from './rules';

/**
 * Files compose reads while it builds its model, before any model exists to check:
 * `include`, `extends.file`, `env_file` and `label_file` (compose folds env files into
 * `environment` and drops the paths from its output). These are found on the files as
 * they are on disk, with YAML merge keys honoured as compose honours them, and judged
 * before compose is allowed to read anything.
 */
export interface ReferenceReader {
  /** The text of an absolute path, or undefined when it is not a readable file. */
  read(abs: string): string | undefined;
}

const isObj = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function parse(text: string): unknown {
  const doc = parseDocument(text, { merge: true, uniqueKeys: false });
  if (doc.errors.length) return undefined;
  try {
    return doc.toJS({ maxAliasCount: 1000 });
  } catch {
    return undefined;
  }
}

/** Keys a repository `.env` may not set: they change what compose reads, fetches or talks to. */
const FORBIDDEN_SETTING =
  /^(COMPOSE_EXPERIMENTAL_\w*|COMPOSE_ENV_FILES|COMPOSE_PROFILES_DIR|DOCKER_\w+)$/;
/** Overridden by simpledeploy's own flags (-p, -f), so harmless. */
const IGNORED_SETTING = /^(COMPOSE_PROJECT_NAME|COMPOSE_FILE|COMPOSE_PATH_SEPARATOR)$/;

/**
 * Compose settings in an env file compose reads as the project's: any spelling compose's
 * parser accepts (`K=v`, `K: v`, `export K=v`) counts.
 */
export function envFileSettings(text: string, file: string): Violation[] {
  const out: Violation[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]/.exec(line);
    const key = m?.[1];
    if (!key || IGNORED_SETTING.test(key) || !FORBIDDEN_SETTING.test(key.toUpperCase())) continue;
    out.push({
      service: null,
      rule: 'compose_setting',
      value: key,
      where: file,
      fix: `remove ${key} from ${file}: it changes what docker compose reads or fetches, which simpledeploy sets itself`,
    });
  }
  return out;
}

interface Queued {
  file: string;
  /** Where this file's relative paths start. */
  base: string;
}

/**
 * Walks the compose files and everything they pull in, judging every path compose would
 * read on the way. Stops at 200 files (a cycle, or an absurd tree).
 */
export function checkReferences(
  composeFiles: readonly string[],
  ctx: ModelContext & { reader: ReferenceReader },
): Violation[] {
  const out: Violation[] = [];
  const allowed = (rule: PolicyRule) => ctx.policy.allowedRules.includes(rule);
  const push = (v: Violation | undefined) => {
    if (v && !allowed(v.rule)) out.push(v);
  };
  const seen = new Set<string>();
  const queue: Queued[] = composeFiles.map((f) => ({ file: f, base: posix.dirname(f) }));

  /** A path compose reads at model time; returns the absolute path when it may be read. */
  const ref = (service: string | null, where: string, raw: unknown, base: string) => {
    if (typeof raw !== 'string' || raw === '') return undefined;
    if (raw.includes('$')) {
      push({
        service,
        rule: 'host_path',
        value: raw,
        where,
        fix: 'write this path without variables ($NAME): simpledeploy judges the files compose reads before compose reads them',
      });
      return undefined;
    }
    const abs = posix.isAbsolute(raw) ? posix.normalize(raw) : posix.join(base, raw);
    const v = judgePath(service, where, raw, base, ctx);
    push(v);
    return v ? undefined : abs;
  };

  while (queue.length && seen.size < 200) {
    const { file, base } = queue.shift() as Queued;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = ctx.reader.read(file);
    if (text === undefined) continue; // compose reports a missing file itself
    const doc = parse(text);
    if (!isObj(doc)) continue;
    const label = posix.relative(ctx.root, file) || file;

    list(doc.include).forEach((inc, i) => {
      const entry = isObj(inc) ? inc : { path: inc };
      const where = `${label}: include[${i}]`;
      const paths = list(entry.path);
      for (const p of paths) {
        if (typeof p === 'string' && isRemoteRef(p)) {
          push({
            service: null,
            rule: 'remote_include',
            value: p,
            where,
            fix: 'copy the included file into the repository and include it by a relative path',
          });
        }
      }
      const projectDir =
        entry.project_directory !== undefined
          ? ref(null, `${where}.project_directory`, entry.project_directory, base)
          : undefined;
      for (const e of list(entry.env_file)) ref(null, `${where}.env_file`, e, base);
      for (const p of paths) {
        if (typeof p === 'string' && isRemoteRef(p)) continue;
        const abs = ref(null, `${where}.path`, p, base);
        if (!abs) continue;
        const incBase = projectDir ?? posix.dirname(abs);
        queue.push({ file: abs, base: incBase });
        // An included project reads the .env of its own directory.
        const dotenv = ctx.reader.read(posix.join(incBase, '.env'));
        if (dotenv !== undefined)
          out.push(
            ...envFileSettings(dotenv, posix.relative(ctx.root, posix.join(incBase, '.env'))),
          );
      }
    });

    const services = isObj(doc.services) ? doc.services : {};
    for (const [name, svc] of Object.entries(services)) {
      if (!isObj(svc)) continue;
      for (const [i, e] of list(svc.env_file).entries())
        ref(name, `${label}: env_file[${i}]`, isObj(e) ? e.path : e, base);
      for (const [i, l] of list(svc.label_file).entries())
        ref(name, `${label}: label_file[${i}]`, l, base);
      const ext = svc.extends;
      if (isObj(ext) && ext.file !== undefined) {
        const abs = ref(name, `${label}: extends.file`, ext.file, base);
        if (abs) queue.push({ file: abs, base: posix.dirname(abs) });
      }
    }
  }
  return out;
}
