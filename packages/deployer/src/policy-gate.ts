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
}

/** Read-write bind sources of a project's running containers, from the engine. */
async function liveWritableMounts(
  session: ComposeSession,
  o: PolicyGateOptions & { liveProject: string },
): Promise<string[]> {
  const run = (args: string[]) =>
    o.runner.run(o.docker, args, { env: session.env, ...(o.signal ? { signal: o.signal } : {}) });
  const ps = await run([
    'ps',
    '-q',
    '--filter',
    `label=com.docker.compose.project=${o.liveProject}`,
  ]);
  const ids = ps.stdout.split('\n').filter(Boolean);
  if (ps.exitCode !== 0 || !ids.length) return [];
  const inspect = await run([
    'inspect',
    '--format',
    '{{range .Mounts}}{{if and (eq .Type "bind") .RW}}{{println .Source}}{{end}}{{end}}',
    ...ids,
  ]);
  return inspect.exitCode === 0 ? inspect.stdout.split('\n').filter(Boolean) : [];
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
  const ctx = { root: session.dir, policy: o.policy, paths: fsPaths };
  let envs: ReturnType<typeof checkEnvFiles>;
  let refs: ReturnType<typeof checkReferences>;
  try {
    envs = checkEnvFiles(session, ctx);
    refs = checkReferences(session.target.files, { ...ctx, reader: fsReader });
  } catch (err) {
    if (!(err instanceof UncheckableFile)) throw err;
    return { ok: false, violations: [], error: err.message, aborted: false };
  }
  const early = [...envs.violations, ...refs.violations];
  if (early.length) return { ok: false, violations: dedupe(early) };

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
  const liveWritable = o.liveProject
    ? await liveWritableMounts(session, { ...o, liveProject: o.liveProject })
    : [];
  const violations = checkModel(model, {
    ...ctx,
    readFiles: [...envs.files, ...refs.files],
    liveWritable,
  });
  return violations.length ? { ok: false, violations: dedupe(violations) } : { ok: true, model };
}

/**
 * The env files compose interpolates with, and copies into its own environment: the
 * repository's (in the stack directory, where a container may have swapped it) and ours,
 * which holds compose_variables. Throws UncheckableFile.
 */
function checkEnvFiles(session: ComposeSession, ctx: ModelContext) {
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
      text = fsReader.read(envFile);
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
