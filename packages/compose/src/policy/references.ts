import { posix } from 'node:path';
import { parseAllDocuments } from 'yaml';
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
  /**
   * The text of an absolute path, or undefined when nothing (or a directory) is there:
   * compose reports those itself. Throws when a file is there that cannot be read whole.
   */
  read(abs: string): string | undefined;
}

/**
 * A file compose would read that the checker cannot read or parse as compose does (too
 * large, YAML the checker's parser rejects): what it refers to is unknown, so the whole
 * stack is refused, whatever the exceptions.
 */
export class UncheckableFile extends Error {
  constructor(
    readonly file: string,
    reason: string,
  ) {
    super(
      `simpledeploy cannot check ${file}, which docker compose would read: ${reason}; simplify the file`,
    );
  }
}

/** A YAML mapping (a !!binary scalar is a Uint8Array, an object too). */
const isObj = (v: unknown): v is Record<string, unknown> =>
  !!v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

/**
 * Every YAML document of a file (compose merges them all, in order). Anything the parser
 * rejects or will not expand fails closed: compose may read it differently.
 */
function parse(text: string, file: string): unknown[] {
  // `binary`: compose (go-yaml) decodes a !!binary scalar into the string it encodes.
  const docs = parseAllDocuments(text, { merge: true, uniqueKeys: false, customTags: ['binary'] });
  if (!Array.isArray(docs)) return [];
  return docs.map((doc) => {
    const err = doc.errors[0];
    if (err) throw new UncheckableFile(file, err.message.split('\n')[0] ?? 'invalid YAML');
    try {
      return doc.toJS({ maxAliasCount: 10_000 }) as unknown;
    } catch {
      throw new UncheckableFile(file, 'too many YAML aliases (*name) to expand');
    }
  });
}

/**
 * A scalar where compose expects a path, as compose reads it: `!!binary` is base64 that
 * compose decodes into the path; numbers and booleans are their text. Anything else is
 * not a path compose would accept.
 */
function pathText(raw: unknown): string | undefined {
  if (typeof raw === 'string') return raw;
  if (raw instanceof Uint8Array) return Buffer.from(raw).toString('utf8');
  if (typeof raw === 'number' || typeof raw === 'boolean') return String(raw);
  return undefined;
}

/** Keys a repository `.env` may not set: they change what compose reads, fetches or talks to. */
const FORBIDDEN_SETTING =
  /^(COMPOSE_EXPERIMENTAL_\w*|COMPOSE_ENV_FILES|COMPOSE_PROFILES_DIR|DOCKER_\w+)$/;
/** Overridden by simpledeploy's own flags (-p, -f), so harmless. */
const IGNORED_SETTING = /^(COMPOSE_PROJECT_NAME|COMPOSE_FILE|COMPOSE_PATH_SEPARATOR)$/;
/**
 * Compose 2.26 also copies every variable of its env files (the repository `.env` and
 * compose_variables alike) into its own process environment, where these change what
 * compose or a program it runs does: the dynamic loader and OpenSSL of the ssh it runs
 * for an ssh:// engine (LD_PRELOAD, OPENSSL_CONF), ssh itself (SSH_ASKPASS, SHELL for a
 * ProxyCommand, Kerberos), git, proxies and TLS roots, the Go runtime and BuildKit.
 * (Later compose releases copy only COMPOSE_* names.)
 */
const PROCESS_SETTING =
  /^(LD_\w*|SSH_\w*|GIT_\w*|OPENSSL_\w*|KRB5\w*|GSS_\w*|BUILDKIT_\w*|BUILDX_\w*|OTEL_\w*|XDG_\w*|MALLOC_\w*|GLIBC_\w*|(HTTPS?|ALL|NO|FTP)_PROXY|SSL_CERT_(FILE|DIR)|GO(DEBUG|MAXPROCS|GC|MEMLIMIT|TRACEBACK)|GCONV_PATH|LOCPATH|NLSPATH|HOSTALIASES|RES_OPTIONS|LOCALDOMAIN|TMPDIR|DISPLAY|SHELL|BASH_ENV|PATH|HOME)$/;

/** Whether an env-file name is a setting of compose, the Docker CLI or a program compose runs. */
export const isProcessSetting = (key: string) =>
  !IGNORED_SETTING.test(key) &&
  (FORBIDDEN_SETTING.test(key.toUpperCase()) || PROCESS_SETTING.test(key.toUpperCase()));

/**
 * Compose settings in an env file compose reads as the project's: any spelling compose's
 * parser accepts (`K=v`, `K: v`, `export K=v`) counts. `file` names it in the violation.
 */
export function envFileSettings(text: string, file: string): Violation[] {
  const out: Violation[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]/.exec(line);
    const key = m?.[1];
    if (!key || !isProcessSetting(key)) continue;
    out.push({
      service: null,
      rule: 'compose_setting',
      value: key,
      where: file,
      fix: `remove ${key} from ${file}: docker compose takes it as its own setting or puts it into its own environment, which simpledeploy sets itself`,
    });
  }
  return out;
}

/** Files one stack's compose files may pull in; a cycle is no problem (each is read once). */
const MAX_FILES = 200;

interface Queued {
  file: string;
  /** Where this file's relative paths start. */
  base: string;
}

/** What compose would read while building its model, and what the policy says of it. */
export interface ReferenceCheck {
  violations: Violation[];
  /**
   * Absolute paths of every local file compose reads or looks for on the way (compose
   * files, env files, an included project's .env even when absent: one created later
   * would be read by `up`).
   */
  files: string[];
}

/**
 * Walks the compose files and everything they pull in, judging every path compose would
 * read on the way. Relative paths start where compose starts them: for every `-f` file,
 * the first one's directory (the project directory); for the files of an `include`, its
 * project_directory or its first file's directory; for an `extends` file, its own
 * directory. Throws UncheckableFile for what it cannot follow as compose would.
 */
export function checkReferences(
  composeFiles: readonly string[],
  ctx: ModelContext & { reader: ReferenceReader },
): ReferenceCheck {
  const out: Violation[] = [];
  const files: string[] = [];
  const allowed = (rule: PolicyRule) => ctx.policy.allowedRules.includes(rule);
  const push = (v: Violation | undefined) => {
    if (v && !allowed(v.rule)) out.push(v);
  };
  const seen = new Set<string>();
  const project = posix.dirname(composeFiles[0] ?? ctx.root);
  const queue: Queued[] = [];

  const read = (abs: string) => {
    files.push(abs);
    try {
      return ctx.reader.read(abs);
    } catch (err) {
      throw new UncheckableFile(
        posix.relative(ctx.root, abs) || abs,
        err instanceof Error ? err.message : 'unreadable',
      );
    }
  };

  const remote = (service: string | null, where: string, p: string) =>
    push({
      service,
      rule: 'remote_include',
      value: p,
      where,
      fix: 'copy the file into the repository and refer to it by a relative path',
    });

  /** A path compose reads at model time; returns the absolute path when it may be read. */
  const ref = (service: string | null, where: string, value: unknown, base: string) => {
    if (value === undefined || value === null) return undefined;
    const raw = pathText(value);
    if (raw === undefined || raw === '') {
      throw new UncheckableFile(where.split(':')[0] ?? where, `${where} is not a path`);
    }
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
    // Compose expands a leading ~ (even `~name`) of an env_file to the server's home.
    if (raw.startsWith('~')) {
      push({
        service,
        rule: 'host_path',
        value: raw,
        where,
        fix: 'write this path relative to the stack directory: compose reads ~ as the home directory of the server',
      });
      return undefined;
    }
    if (isRemoteRef(raw)) {
      remote(service, where, raw);
      return undefined;
    }
    const abs = posix.isAbsolute(raw) ? posix.normalize(raw) : posix.join(base, raw);
    const v = judgePath(service, where, raw, base, ctx);
    push(v);
    return v ? undefined : abs;
  };

  /** Env files compose reads whole: judged, then recorded as read. */
  const envRef = (service: string | null, where: string, value: unknown, base: string) => {
    const abs = ref(service, where, value, base);
    if (abs) files.push(abs);
  };

  // The -f files themselves: written by simpledeploy, but a container may have swapped one.
  for (const f of composeFiles) {
    const abs = ref(null, `-f ${posix.relative(ctx.root, f) || f}`, f, project);
    if (abs) queue.push({ file: abs, base: project });
  }

  while (queue.length) {
    const { file, base } = queue.shift() as Queued;
    if (seen.has(file)) continue;
    // Compose would go on reading what the checker never saw.
    if (seen.size >= MAX_FILES)
      throw new UncheckableFile(file, `more than ${MAX_FILES} files are included or extended`);
    seen.add(file);
    const text = read(file);
    if (text === undefined) continue; // compose reports a missing file itself
    const label = posix.relative(ctx.root, file) || file;
    for (const doc of parse(text, label)) {
      if (!isObj(doc)) continue;
      list(doc.include).forEach((inc, i) => {
        const entry = isObj(inc) ? inc : { path: inc };
        const where = `${label}: include[${i}]`;
        const projectDir =
          entry.project_directory !== undefined
            ? ref(null, `${where}.project_directory`, entry.project_directory, base)
            : undefined;
        for (const e of list(entry.env_file)) envRef(null, `${where}.env_file`, e, base);
        const paths = list(entry.path)
          .map((p) => ref(null, `${where}.path`, p, base))
          .filter((p): p is string => !!p);
        // Compose resolves every file of one include from the same directory.
        const incBase = projectDir ?? (paths[0] ? posix.dirname(paths[0]) : base);
        for (const abs of paths) queue.push({ file: abs, base: incBase });
        // An included project reads the .env of its own directory.
        const dotenv = read(posix.join(incBase, '.env'));
        const dotenvLabel = posix.relative(ctx.root, posix.join(incBase, '.env'));
        if (dotenv !== undefined) for (const v of envFileSettings(dotenv, dotenvLabel)) push(v);
      });

      const services = isObj(doc.services) ? doc.services : {};
      for (const [name, svc] of Object.entries(services)) {
        if (!isObj(svc)) continue;
        for (const [i, e] of list(svc.env_file).entries())
          envRef(name, `${label}: env_file[${i}]`, isObj(e) ? e.path : e, base);
        for (const [i, l] of list(svc.label_file).entries())
          envRef(name, `${label}: label_file[${i}]`, l, base);
        const ext = svc.extends;
        if (isObj(ext) && ext.file !== undefined) {
          const abs = ref(name, `${label}: extends.file`, ext.file, base);
          if (abs) queue.push({ file: abs, base: posix.dirname(abs) });
        }
      }
    }
  }
  return { violations: out, files };
}
