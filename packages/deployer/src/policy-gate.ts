import { createHash } from 'node:crypto';
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import {
  checkModel,
  checkReferences,
  composeArgs,
  describeViolation,
  envFileSettings,
  type HostPolicy,
  judgePath,
  type ModelContext,
  type PathResolver,
  UncheckableFile,
  type Violation,
} from '@simpledeploy/compose';
import { AppError, type CommandRunner } from '@simpledeploy/core';
import type { ComposeSession } from './compose-session';

/** The real filesystem, as the policy sees it: symlinks followed, never an exception. */
export const fsPaths: PathResolver = {
  realpath(abs: string): string {
    let head = posix.normalize(abs);
    const rest: string[] = [];
    // The deepest ancestor that exists is resolved; what does not exist yet is appended.
    for (let i = 0; i < 256; i++) {
      try {
        const real = realpathSync(head);
        return rest.length ? posix.join(real, ...rest.reverse()) : real;
      } catch {
        if (head === '/') return abs;
        rest.push(posix.basename(head));
        head = posix.dirname(head);
      }
    }
    return abs;
  },
};

const MAX_READ = 2 * 1024 * 1024;
/**
 * Files as compose would read them. Nothing there (or a directory) is for compose to
 * report; a file the checker cannot read whole throws, since compose would read it anyway.
 */
const fsReader = {
  read(abs: string): string | undefined {
    if (!existsSync(abs)) return undefined;
    const st = statSync(abs);
    if (st.isDirectory()) return undefined;
    if (!st.isFile()) throw new Error('it is not a regular file');
    if (st.size > MAX_READ) throw new Error(`it is larger than ${MAX_READ / 1024 / 1024} MB`);
    return readFileSync(abs, 'utf8');
  },
};

export type PolicyOutcome =
  | { ok: true; model: unknown }
  | { ok: false; violations: Violation[] }
  | { ok: false; violations: []; error: string; aborted: boolean };

export interface PolicyGateOptions {
  runner: CommandRunner;
  docker: string;
  policy: HostPolicy;
  signal?: AbortSignal | undefined;
  /** Last lines of compose's stderr, redacted, for a config that fails. */
  describeFailure: (stderr: string) => string;
  /**
   * The compose project whose running containers share this directory (a gate on the
   * deploy dir): their read-write mounts count as writable too.
   */
  liveProject?: string | undefined;
  /** The ids of liveProject's running containers, when the caller has listed them already. */
  running?: string[] | undefined;
  /**
   * Read-write bind sources per container id. A container's mounts never change after it
   * is created, so a container seen once is not inspected again.
   */
  mounts?: Map<string, string[]> | undefined;
  /** Verdicts kept per directory, to skip `config` when nothing they depend on changed. */
  memo?: VerdictMemo | undefined;
}

/** The engine's short container id (`docker ps -q`), whatever length it was given in. */
const short = (id: string) => id.slice(0, 12);

/** Read-write bind sources of a project's running containers, from the engine. */
async function liveWritableMounts(
  session: ComposeSession,
  o: PolicyGateOptions & { liveProject: string },
): Promise<string[]> {
  const run = (args: string[]) =>
    o.runner.run(o.docker, args, { env: session.env, ...(o.signal ? { signal: o.signal } : {}) });
  let ids = o.running;
  if (!ids) {
    const ps = await run([
      'ps',
      '-q',
      '--filter',
      `label=com.docker.compose.project=${o.liveProject}`,
    ]);
    if (ps.exitCode !== 0) return [];
    ids = ps.stdout.split('\n').filter(Boolean);
  }
  const unknown = ids.filter((id) => !o.mounts?.has(short(id)));
  const found = new Map<string, string[]>();
  if (unknown.length) {
    // One line per container: its id, a tab, its mounts as JSON (a source path may hold
    // any character, JSON escapes them).
    const inspect = await run(['inspect', '--format', '{{.Id}}\t{{json .Mounts}}', ...unknown]);
    if (inspect.exitCode !== 0) return [];
    for (const line of inspect.stdout.split('\n').filter(Boolean)) {
      const tab = line.indexOf('\t');
      let mounts: { Type?: string; RW?: boolean; Source?: string }[];
      try {
        mounts = JSON.parse(line.slice(tab + 1));
      } catch {
        return [];
      }
      const sources = (mounts ?? [])
        .filter((m) => m.Type === 'bind' && m.RW && m.Source)
        .map((m) => m.Source as string);
      const id = short(line.slice(0, tab));
      found.set(id, sources);
      if (o.mounts && o.mounts.size < 10_000) o.mounts.set(id, sources);
    }
  }
  const sourcesOf = (id: string) => found.get(short(id)) ?? o.mounts?.get(short(id)) ?? [];
  return [...new Set(ids.flatMap(sourcesOf))].sort();
}

/** One answer the policy got from the filesystem while judging, to check it again later. */
type Observed =
  | { kind: 'realpath'; path: string; result: string }
  | { kind: 'read'; path: string; digest: string };

/** A verdict that let a session run, with everything it was judged on. */
interface KeptVerdict {
  key: string;
  observed: Observed[];
  model: unknown;
}

/**
 * Passing verdicts per compose directory. A verdict is a function of the session (files,
 * env, project), the policy, the live read-write mounts and what the filesystem answered
 * the checker (every realpath and every file read, compose's own reads included, since
 * the checker reads first whatever compose would). When all of these are the same again,
 * so is the verdict, and compose's model with it: `config` is not run again.
 */
export type VerdictMemo = Map<string, KeptVerdict>;

const readDigest = (abs: string): string => {
  try {
    const text = fsReader.read(abs);
    return text === undefined
      ? 'none'
      : `sha256:${createHash('sha256').update(text).digest('hex')}`;
  } catch (err) {
    return `error:${err instanceof Error ? err.message : String(err)}`;
  }
};

/**
 * The filesystem as the policy sees it, writing down every answer. Reads outside the
 * stack's directory are ours (the variables file of this session): the key holds them.
 */
function recording(observed: Observed[], root: string) {
  const paths: PathResolver = {
    realpath(abs) {
      const result = fsPaths.realpath(abs);
      observed.push({ kind: 'realpath', path: abs, result });
      return result;
    },
  };
  const reader = {
    read(abs: string): string | undefined {
      if (abs.startsWith(`${root}/`))
        observed.push({ kind: 'read', path: abs, digest: readDigest(abs) });
      return fsReader.read(abs);
    },
  };
  return { paths, reader };
}

/** True when the filesystem still answers every question as it did. */
const unchanged = (observed: Observed[]) =>
  observed.every((o) =>
    o.kind === 'realpath' ? fsPaths.realpath(o.path) === o.result : readDigest(o.path) === o.digest,
  );

function verdictKey(session: ComposeSession, o: PolicyGateOptions, liveWritable: string[]) {
  // Our variables file lives in a new session directory each time: its content is part
  // of the verdict, its path is not.
  const envFiles = (session.target.envFiles ?? []).map((f) =>
    f.startsWith(`${session.dir}/`) ? f : `compose_variables ${readDigest(f)}`,
  );
  const { DOCKER_CONFIG: _, ...env } = session.env;
  return createHash('sha256')
    .update(
      JSON.stringify({
        dir: session.dir,
        target: { ...session.target, envFiles },
        env,
        policy: o.policy,
        liveWritable,
      }),
    )
    .digest('hex');
}

/**
 * The host policy, judged on compose's own resolved model of a session's files. First
 * what compose would read while building its model (env-file settings, includes,
 * extends, env files): refused before compose reads them. Then `docker compose config
 * --format json` with the exact files, env files and environment `up` gets (and every
 * profile), and every rule on what it resolved. Its output is never logged: it holds the
 * services' environment. A file it cannot follow as compose would refuses the stack whole.
 */
export async function checkPolicy(
  session: ComposeSession,
  o: PolicyGateOptions,
): Promise<PolicyOutcome> {
  const liveMounts = () =>
    o.liveProject
      ? liveWritableMounts(session, { ...o, liveProject: o.liveProject })
      : Promise.resolve([]);
  // With a memo the live mounts are part of the key: asked first.
  let live: string[] | undefined;
  let key: string | undefined;
  if (o.memo) {
    live = await liveMounts();
    key = verdictKey(session, o, live);
    const kept = o.memo.get(session.dir);
    if (kept?.key === key && unchanged(kept.observed)) return { ok: true, model: kept.model };
  }
  const observed: Observed[] = [];
  const fs = o.memo ? recording(observed, session.dir) : { paths: fsPaths, reader: fsReader };
  const ctx = { root: session.dir, policy: o.policy, paths: fs.paths };
  let envs: ReturnType<typeof checkEnvFiles>;
  let refs: ReturnType<typeof checkReferences>;
  try {
    envs = checkEnvFiles(session, ctx, fs.reader);
    refs = checkReferences(session.target.files, { ...ctx, reader: fs.reader });
  } catch (err) {
    if (!(err instanceof UncheckableFile)) throw err;
    return { ok: false, violations: [], error: err.message, aborted: false };
  }
  const early = [...envs.violations, ...refs.violations];
  if (early.length) return { ok: false, violations: dedupe(early) };
  // Env and label files compose folds into its model are judged by path, not read by
  // the checker: their content is part of the verdict too, taken before compose reads it.
  if (o.memo) {
    for (const f of [...envs.files, ...refs.files]) {
      if (f.startsWith(`${session.dir}/`))
        observed.push({ kind: 'read', path: f, digest: readDigest(f) });
    }
  }

  // Every profile: `up <service>` and `scale` start a service of any profile by name.
  const target = { ...session.target, profiles: ['*'] };
  const res = await o.runner.run(o.docker, composeArgs(target, 'config', ['--format', 'json']), {
    cwd: session.dir,
    env: session.env,
    ...(o.signal ? { signal: o.signal } : {}),
  });
  if (res.aborted) return { ok: false, violations: [], error: 'aborted', aborted: true };
  if (res.exitCode !== 0) {
    return {
      ok: false,
      violations: [],
      error: `the compose file is invalid: ${o.describeFailure(res.stderr)}`,
      aborted: false,
    };
  }
  let model: unknown;
  try {
    model = JSON.parse(res.stdout);
  } catch {
    return {
      ok: false,
      violations: [],
      error:
        'docker compose config did not print its model as JSON; check the compose version (GET /health)',
      aborted: false,
    };
  }
  const liveWritable = live ?? (await liveMounts());
  const violations = checkModel(model, {
    ...ctx,
    readFiles: [...envs.files, ...refs.files],
    liveWritable,
  });
  if (violations.length) return { ok: false, violations: dedupe(violations) };
  if (o.memo && key) {
    if (o.memo.size >= 10_000) o.memo.clear();
    o.memo.set(session.dir, { key, observed, model });
  }
  return { ok: true, model };
}

/**
 * The env files compose interpolates with, and copies into its own environment: the
 * repository's (in the stack directory, where a container may have swapped it) and ours,
 * which holds compose_variables. Throws UncheckableFile.
 */
function checkEnvFiles(session: ComposeSession, ctx: ModelContext, reader = fsReader) {
  const violations: Violation[] = [];
  const files: string[] = [];
  for (const envFile of session.target.envFiles ?? []) {
    const ours = !envFile.startsWith(`${session.dir}/`);
    const label = ours ? 'compose_variables' : posix.relative(session.dir, envFile);
    if (!ours) {
      const v = judgePath(null, `--env-file ${label}`, envFile, session.dir, ctx);
      if (v) {
        violations.push(v);
        continue;
      }
      files.push(envFile);
    }
    let text: string | undefined;
    try {
      text = reader.read(envFile);
    } catch (err) {
      throw new UncheckableFile(label, err instanceof Error ? err.message : 'unreadable');
    }
    if (text !== undefined) violations.push(...envFileSettings(text, label));
  }
  const off = ctx.policy.allowedRules;
  return { violations: violations.filter((v) => !off.includes(v.rule)), files };
}

function dedupe(vs: Violation[]): Violation[] {
  const seen = new Set<string>();
  return vs.filter((v) => {
    const k = `${v.service}|${v.rule}|${v.where}|${v.value}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/** A refusal as the error the API answers with (`422 POLICY`, every violation listed). */
export function policyError(violations: Violation[]): AppError {
  const first = violations[0];
  const more = violations.length > 1 ? ` (and ${violations.length - 1} more)` : '';
  return new AppError(
    'POLICY',
    `the host policy does not allow this stack: ${first ? describeViolation(first) : ''}${more}`,
    { violations },
  );
}

/** The refusal as one message for a deployment's error. */
export const policyMessage = (violations: Violation[]) =>
  `the host policy does not allow this stack (${violations.length} violation${violations.length === 1 ? '' : 's'}): ${violations.map(describeViolation).join('; ')}`;
