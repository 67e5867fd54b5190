import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_HOST_POLICY, type HostPolicy, mergeExceptions } from '@simpledeploy/compose';
import {
  type CommandRunner,
  type DesiredState,
  projectName,
  type Redact,
  type SecretBox,
  validation,
} from '@simpledeploy/core';
import type { StackRow } from '@simpledeploy/db';
import { type ComposeSession, openComposeSession } from './compose-session';
import type { HostConnections } from './hosts';
import { stderrTail } from './output-tail';
import { checkPolicy, policyError } from './policy-gate';
import type { StackLocator } from './stack-locator';
import { registryLogins, rowRedactor, type StackSecrets } from './stack-secrets';
import { clearRunDir } from './workspace';

export interface ComposeSessionsDeps {
  runner: CommandRunner;
  docker: string;
  locator: StackLocator;
  secrets: SecretBox;
  redact: Redact;
  childEnv: Record<string, string>;
  /** How the CLI reaches each host's engine (DOCKER_HOST, TLS files, the SSH link). */
  hosts: HostConnections;
  policy?: HostPolicy | undefined;
}

/**
 * Compose sessions for every caller (deploys, lifecycle, drift, the stack service) and the
 * host policy judged on them: where a session lives, which policy applies to a stack.
 */
export function createComposeSessions(deps: ComposeSessionsDeps) {
  const { runner, docker, locator } = deps;
  const runDir = locator.runDir;
  const serverPolicy = deps.policy ?? DEFAULT_HOST_POLICY;
  /** The policy in force for one stack: the server's, plus the stack's own exceptions. */
  const policyFor = (stack: Pick<StackRow, 'policyExceptions'>) =>
    mergeExceptions(serverPolicy, stack.policyExceptions ?? []);

  /**
   * One compose session over a version in a directory of the stack (deploy or check), its
   * commands reaching the engine of `hostId` (default: the stack's host).
   */
  const session = async (
    stack: StackRow,
    secrets: StackSecrets,
    state: DesiredState,
    dir: string,
    hostId: string = stack.hostId,
  ) =>
    openComposeSession({
      dir,
      state,
      project: locator.projectOf(stack),
      registries: registryLogins(secrets.registries),
      childEnv: await deps.hosts.env(hostId),
      runDir,
    });

  /**
   * A session in a fresh directory under the run dir, for reading what compose makes of a
   * version (policy of an unsaved stack, drift) without touching the deploy dir. No
   * registry logins: nothing is pulled there. dispose() removes the directory.
   */
  async function scratchSession(stackName: string, state: DesiredState): Promise<ComposeSession> {
    await mkdir(runDir, { recursive: true, mode: 0o700 });
    const dir = await mkdtemp(join(runDir, 'scratch-'));
    const drop = () => rm(dir, { recursive: true, force: true });
    const s = await openComposeSession({
      dir: join(dir, 'stack'),
      state,
      project: projectName(locator.projectPrefix, stackName),
      registries: [],
      childEnv: deps.childEnv,
      runDir,
    }).catch(async (err: unknown) => {
      await drop();
      throw err;
    });
    return {
      ...s,
      dispose: async () => {
        await s.dispose();
        await drop();
      },
    };
  }

  /** The policy on a session, as an error: POLICY with every violation, or VALIDATION. */
  async function judgeOrThrow(
    s: ComposeSession,
    policy: HostPolicy,
    redact: Redact,
    liveProject?: string,
  ) {
    const verdict = await checkPolicy(s, {
      runner,
      docker,
      policy,
      describeFailure: (stderr) => stderrTail(stderr, redact),
      liveProject,
    });
    if (verdict.ok) return verdict.model;
    if ('error' in verdict) throw validation(verdict.error, { field: 'compose' });
    throw policyError(verdict.violations);
  }

  return {
    serverPolicy,
    policyFor,
    session,
    scratchSession,
    /** The Docker CLI's environment for a stack's host (or another host, during a move). */
    engineEnv: (stack: Pick<StackRow, 'hostId'>, hostId: string = stack.hostId) =>
      deps.hosts.env(hostId),

    /** Removes the session files (registry logins) a killed process left behind. */
    clearSessions: () => clearRunDir(runDir),

    /**
     * Judges a stack that is not saved yet (inline create or update) on compose's model of
     * its files, in a scratch directory; throws `POLICY` with every violation.
     */
    async judge(
      draft: Pick<StackRow, 'name' | 'policyExceptions'>,
      state: DesiredState,
    ): Promise<{ model: unknown; root: string }> {
      const s = await scratchSession(draft.name, state);
      try {
        return { model: await judgeOrThrow(s, policyFor(draft), deps.redact), root: s.dir };
      } finally {
        await s.dispose();
      }
    },

    /** Throws `POLICY` when a session's files are not allowed for the stack (lifecycle commands). */
    async gateSession(stack: StackRow, s: ComposeSession): Promise<void> {
      await judgeOrThrow(
        s,
        policyFor(stack),
        rowRedactor(stack, deps.secrets, deps.redact),
        s.target.project,
      );
    },

    /**
     * A session in the stack's deploy dir over one of its versions (lifecycle commands).
     * Not judged here: the caller judges it with gateSession.
     */
    openSession: (stack: StackRow, secrets: StackSecrets, state: DesiredState) =>
      session(stack, secrets, state, join(locator.stackDir(stack.id), 'deploy')),
  };
}

export type ComposeSessions = ReturnType<typeof createComposeSessions>;
