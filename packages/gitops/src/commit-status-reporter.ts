import {
  type DeploymentStatus,
  isFinished,
  type Logger,
  type Redact,
  type SecretBox,
} from '@simpledeploy/core';
import { type Db, findStack, type StackRow } from '@simpledeploy/db';
import {
  type ChangeEvent,
  type DeploymentView,
  decryptSecrets,
  rowRedactor,
} from '@simpledeploy/deployer';
import {
  type CommitState,
  commitStateOf,
  commitStatusTarget,
  statusRequest,
} from './commit-status';

type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

export interface CommitStatusReporterDeps {
  db: Db;
  secrets: SecretBox;
  /** The server-wide redactor; the stack's own secrets are added on top. */
  redact: Redact;
  logger: Logger;
  deployer: { onChange(listener: (e: ChangeEvent) => void): () => void };
  /** Where people open simpledeploy (SIMPLEDEPLOY_PUBLIC_URL): statuses link to the deployment there. */
  publicUrl?: string | undefined;
  fetch?: FetchLike | undefined;
  /** Per request. Default 10 s. */
  timeoutMs?: number | undefined;
}

function describe(stack: StackRow, d: DeploymentView, redact: Redact): string {
  const status: DeploymentStatus = d.status;
  switch (status) {
    case 'running':
      return `Deploying ${stack.name}`;
    case 'succeeded':
      return `Deployed ${stack.name}`;
    case 'rolled_back':
    case 'failed':
      return redact(
        `Deployment of ${stack.name} ${status === 'failed' ? 'failed' : 'rolled back'}${d.error ? `: ${d.error}` : ''}`,
      );
    default:
      return `Deployment of ${stack.name} ${status}`;
  }
}

/**
 * Commit statuses for git stacks with a token: `pending` once a deployment knows its
 * commit, then success or failure when it ends, each linking to the deployment. A status
 * that cannot be sent is logged (redacted) and never holds up or fails the deployment:
 * requests run beside it, in order per deployment.
 */
export function createCommitStatusReporter(deps: CommitStatusReporterDeps) {
  const doFetch: FetchLike = deps.fetch ?? ((url, init) => fetch(url, init));
  const timeoutMs = deps.timeoutMs ?? 10_000;
  const base = deps.publicUrl?.replace(/\/+$/, '');
  /** The last state sent per deployment, so a repeated event sends nothing. */
  const sent = new Map<string, CommitState>();
  /** Requests per deployment, chained so pending never lands after success. */
  const chains = new Map<string, Promise<void>>();
  let unsubscribe: (() => void) | undefined;

  async function send(stack: StackRow, d: DeploymentView, state: CommitState, token: string) {
    const target = commitStatusTarget(stack);
    if (!target || !d.git_commit) return;
    const redact = rowRedactor(stack, deps.secrets, deps.redact);
    const req = statusRequest(target, token, d.git_commit, {
      state,
      description: describe(stack, d, redact),
      context: `simpledeploy/${stack.name}`,
      targetUrl: base ? `${base}/#/deployments/${encodeURIComponent(d.id)}` : undefined,
      ref: stack.repoBranch ?? undefined,
    });
    try {
      const res = await doFetch(req.url, {
        method: req.method,
        headers: req.headers,
        ...(req.body ? { body: req.body } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
      if (!res.ok) {
        const text = (await res.text().catch(() => '')).slice(0, 300);
        deps.logger.warn('the git host refused a commit status', {
          stack: stack.name,
          host: target.host,
          deployment: d.id,
          state,
          status: res.status,
          answer: redact(text),
        });
        return;
      }
      await res.body?.cancel();
      deps.logger.debug('commit status sent', { stack: stack.name, deployment: d.id, state });
    } catch (err) {
      deps.logger.warn('cannot send a commit status', {
        stack: stack.name,
        host: target.host,
        deployment: d.id,
        state,
        error: redact(
          err instanceof Error
            ? err.cause instanceof Error
              ? err.cause.message
              : err.message
            : String(err),
        ),
      });
    }
  }

  function onDeployment(d: DeploymentView) {
    const state = commitStateOf(d.status);
    // Before its commit is resolved a deployment has nothing to put a status on.
    if (!state || !d.git_commit || sent.get(d.id) === state) return;
    const stack = findStack(deps.db, d.stack_id);
    if (!stack || !commitStatusTarget(stack)) return;
    let token: string | undefined;
    try {
      token = decryptSecrets(stack, deps.secrets).repoToken;
    } catch {
      return;
    }
    if (!token) return;
    const finished = isFinished(d.status);
    if (finished) sent.delete(d.id);
    else sent.set(d.id, state);
    const previous = chains.get(d.id) ?? Promise.resolve();
    const next = previous.then(() => send(stack, d, state, token));
    chains.set(d.id, next);
    void next.finally(() => {
      if (chains.get(d.id) === next) chains.delete(d.id);
    });
  }

  return {
    start() {
      unsubscribe ??= deps.deployer.onChange((e) => {
        if (e.type !== 'deployment') return;
        try {
          onDeployment(e.deployment);
        } catch (error) {
          deps.logger.warn('commit status skipped', { deployment: e.deployment.id, error });
        }
      });
    },
    /** Stops listening and waits (bounded) for statuses being sent. */
    async stop(waitMs = 5_000) {
      unsubscribe?.();
      unsubscribe = undefined;
      await Promise.race([
        Promise.allSettled([...chains.values()]),
        new Promise((r) => setTimeout(r, waitMs).unref()),
      ]);
    },
  };
}

export type CommitStatusReporter = ReturnType<typeof createCommitStatusReporter>;
