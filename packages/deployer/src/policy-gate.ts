import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { posix } from 'node:path';
import {
  checkModel,
  checkReferences,
  composeArgs,
  describeViolation,
  envFileSettings,
  type HostPolicy,
  type PathResolver,
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
const fsReader = {
  read(abs: string): string | undefined {
    try {
      if (!existsSync(abs) || !statSync(abs).isFile() || statSync(abs).size > MAX_READ)
        return undefined;
      return readFileSync(abs, 'utf8');
    } catch {
      return undefined;
    }
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
}

/**
 * The host policy, judged on compose's own resolved model of a session's files. First
 * what compose would read while building its model (env-file settings, includes,
 * extends, env files): refused before compose reads them. Then `docker compose config
 * --format json` with the exact files, env files and environment `up` gets, and every
 * rule on what it resolved. Its output is never logged: it holds the services' environment.
 */
export async function checkPolicy(
  session: ComposeSession,
  o: PolicyGateOptions,
): Promise<PolicyOutcome> {
  const ctx = { root: session.dir, policy: o.policy, paths: fsPaths };
  const early: Violation[] = [];
  for (const envFile of session.target.envFiles ?? []) {
    // Our own variables file was checked by name when the stack was saved.
    if (!envFile.startsWith(session.dir)) continue;
    const text = fsReader.read(envFile);
    if (text !== undefined)
      early.push(...envFileSettings(text, posix.relative(session.dir, envFile)));
  }
  early.push(...checkReferences(session.target.files, { ...ctx, reader: fsReader }));
  if (early.length) return { ok: false, violations: dedupe(early) };

  const res = await o.runner.run(
    o.docker,
    composeArgs(session.target, 'config', ['--format', 'json']),
    {
      cwd: session.dir,
      env: session.env,
      ...(o.signal ? { signal: o.signal } : {}),
    },
  );
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
  const violations = checkModel(model, ctx);
  return violations.length ? { ok: false, violations: dedupe(violations) } : { ok: true, model };
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
