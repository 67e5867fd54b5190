import { DEFAULT_COMPOSE_FILES } from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type GitClient,
  isAppError,
  type Logger,
  type Metrics,
  noopMetrics,
  notFound,
  type SecretBox,
  validation,
  type WebhookResult,
} from '@simpledeploy/core';
import {
  type Db,
  findStackAccessRow,
  getVersion,
  listStacks,
  type StackAccessRow,
} from '@simpledeploy/db';
import type { Deployer, DeploymentView } from '@simpledeploy/deployer';
import { createDeliveryRecorder } from './delivery-recorder';
import {
  parseWebhook,
  pushTouches,
  relevantFiles,
  repoKey,
  type WebhookEvent,
} from './webhook-parse';
import { type HeaderReader, verifyWebhookSignature } from './webhook-verify';

export interface WebhookServiceDeps {
  db: Db;
  deployer: Deployer;
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  /** Finds the remote's default branch when a stack has no repo_branch and the payload does not say. */
  git?: GitClient | undefined;
  /** Counts each delivery by result (simpledeploy_webhook_deliveries_total). */
  metrics?: Metrics | undefined;
}

export interface WebhookRequest {
  /** `{stack}` of the path: id or name. */
  stack: string;
  header: HeaderReader;
  /** The raw body bytes, as signed. */
  body: Uint8Array;
  /** Whether the request carries the API key (checked by the caller, in constant time). */
  apiKeyValid: boolean;
  /**
   * The row of `stack` as the caller already read it for this request (the api's access
   * check does, for the audit log), null when it found none: used instead of reading it
   * again.
   */
  found?: StackAccessRow | null | undefined;
}

/** What a git host's delivery meant; the api turns it into an HTTP answer. */
export type WebhookOutcome =
  | { kind: 'ping' }
  | PushIgnored
  | {
      kind: 'queued';
      deployment: DeploymentView;
      /** Joined a deployment already queued for the stack. */
      coalesced: boolean;
      commit: string | null;
      deliveryId: string | null;
    };

/** A delivery that deploys nothing, and why. */
export interface PushIgnored {
  kind: 'ignored';
  reason: string;
  /** The git host's event name. */
  event: string | null;
  deliveryId: string | null;
}

/** A repository-wide delivery: a ping or an ignored event, else what it meant for each stack. */
export type RepositoryOutcome =
  | Exclude<WebhookOutcome, { kind: 'queued' }>
  | { kind: 'stacks'; stacks: { stack: string; outcome: WebhookOutcome }[] };

// Verified against when the stack is unknown, so an unknown stack costs the same as a wrong signature.
const DECOY_SECRET = 'simpledeploy-decoy-webhook-secret';

export const webhookUnauthorized = () =>
  new AppError(
    'UNAUTHORIZED',
    "a valid webhook signature for this stack's webhook_secret (X-Hub-Signature-256, X-Gitea-Signature, X-Gogs-Signature, X-Gitlab-Token or the stack's webhook_signature_header) or the API key is required",
  );

/**
 * `POST /api/v1/stacks/{stack}/webhook`: authenticates a git host's push against the
 * stack's webhook_secret (or the API key), ignores what does not concern the stack
 * (other branches, files it does not read, events that are not pushes, deliveries seen
 * before) and otherwise queues a deployment with trigger `webhook`.
 */
export function createWebhookService(deps: WebhookServiceDeps) {
  const { db, deployer, logger } = deps;
  const deliveries = createDeliveryRecorder(db);

  // The webhook secret alone, decrypted once per ciphertext (a write re-encrypts with a
  // fresh IV, so a changed secret misses): a burst of pushes decrypts nothing after the first.
  const webhookSecrets = new Map<string, { enc: string; secret: string }>();
  function webhookSecretOf(row: StackAccessRow): string | undefined {
    const enc = row.webhookSecretEnc;
    if (!enc) return undefined;
    const hit = webhookSecrets.get(row.id);
    if (hit?.enc === enc) return hit.secret;
    const secret = deps.secrets.decrypt(enc);
    if (webhookSecrets.size >= 10_000) webhookSecrets.clear();
    webhookSecrets.set(row.id, { enc, secret });
    return secret;
  }

  function authenticate(req: WebhookRequest): StackAccessRow {
    const row =
      req.found === undefined ? findStackAccessRow(db, req.stack) : (req.found ?? undefined);
    const secret = row ? webhookSecretOf(row) : undefined;
    const method = verifyWebhookSignature(
      req.header,
      req.body,
      secret ?? DECOY_SECRET,
      row?.webhookSignatureHeader,
    );
    if (row && (req.apiKeyValid || (secret && method))) return row;
    // Only a caller holding the API key may learn that a stack does not exist.
    if (!row && req.apiKeyValid) throw notFound('stack', req.stack);
    throw webhookUnauthorized();
  }

  /** The branch a stack follows: repo_branch, else the remote's default branch if known. */
  async function trackedBranch(stack: StackAccessRow, event: WebhookEvent) {
    if (stack.repoBranch) return stack.repoBranch;
    if (event.defaultBranch) return event.defaultBranch;
    if (!deps.git || !stack.repoUrl) return undefined;
    try {
      const token = stack.repoTokenEnc ? deps.secrets.decrypt(stack.repoTokenEnc) : undefined;
      const { ref } = await deps.git.resolveRemote(stack.repoUrl, undefined, {
        username: stack.repoUsername ?? undefined,
        token,
      });
      return ref.replace(/^refs\/heads\//, '');
    } catch (error) {
      // Unknown: the deploy fetches the default branch anyway, whatever was pushed.
      logger.warn('webhook: cannot resolve the default branch', { stack: stack.name, error });
      return undefined;
    }
  }

  /** Files the stack's deploy reads: the current version's and what its settings name. */
  function stackFiles(stack: StackAccessRow): Set<string> {
    const version = stack.currentVersionId
      ? getVersion(db, stack.id, stack.currentVersionId)
      : undefined;
    const configured = [
      ...(stack.composePath ? [stack.composePath] : DEFAULT_COMPOSE_FILES),
      ...stack.composeIncludes,
    ];
    return relevantFiles({
      composeFiles: [...configured, ...(version?.state.composeFiles ?? [])],
      envFile: version?.state.envFile,
    });
  }

  const ignored = (reason: string, event: WebhookEvent): PushIgnored => ({
    kind: 'ignored',
    reason,
    event: event.event ?? null,
    deliveryId: event.deliveryId ?? null,
  });

  /** What one authenticated push means for one stack: ignored with the reason, or a deploy. */
  async function forStack(stack: StackAccessRow, event: WebhookEvent): Promise<WebhookOutcome> {
    const log = logger.child({ stack: stack.name, host: event.host, delivery: event.deliveryId });
    if (stack.repoUrl && event.ref) {
      if (event.deleted) return ignored(`the push deleted ${event.ref}`, event);
      const tracked = await trackedBranch(stack, event);
      const pushed = event.branch ?? event.tag ?? event.ref;
      if (tracked && pushed !== tracked && event.ref !== tracked) {
        return ignored(`the push is for ${event.ref}; the stack follows ${tracked}`, event);
      }
      const touch = pushTouches(event.changedFiles, stackFiles(stack));
      if (!touch.relevant) return ignored(touch.reason, event);
    }
    if (event.deliveryId) {
      const fresh = await deliveries.record(
        `${stack.id}:${event.deliveryId}`,
        stack.id,
        deps.clock.now().toISOString(),
      );
      if (!fresh) return ignored(`delivery ${event.deliveryId} was already handled`, event);
    }
    // No pinned ref: a deploy that joins one already queued must still get the newest
    // commit of the branch, not the first push of a burst.
    const res = deployer.deployStackId(stack.id, { trigger: 'webhook' });
    log.info('webhook push queued a deployment', {
      deployment: res.deployment.id,
      coalesced: res.coalesced,
      commit: event.commit,
    });
    return {
      kind: 'queued',
      deployment: res.deployment,
      coalesced: res.coalesced,
      commit: event.commit ?? null,
      deliveryId: event.deliveryId ?? null,
    };
  }

  /** Pings answer 200 and non-push events are ignored before any stack is looked at. */
  function early(event: WebhookEvent): { kind: 'ping' } | PushIgnored | undefined {
    if (event.kind === 'ping') return { kind: 'ping' };
    if (event.kind !== 'push')
      return ignored(`event ${event.event ?? 'unknown'} is not a push`, event);
    return undefined;
  }

  const metrics = deps.metrics ?? noopMetrics;
  /** Runs one delivery and counts how it ended; an unauthenticated one counts as rejected. */
  async function counted<T extends WebhookOutcome | RepositoryOutcome>(
    run: () => Promise<T>,
  ): Promise<T> {
    try {
      const outcome = await run();
      metrics.webhookDelivery(deliveryResult(outcome));
      return outcome;
    } catch (error) {
      const code = isAppError(error) ? error.code : undefined;
      // Refused deliveries (no valid signature, unknown stack, a payload that is not a
      // webhook) are the sender's problem; anything else is ours.
      const refused = code === 'UNAUTHORIZED' || code === 'NOT_FOUND' || code === 'VALIDATION';
      metrics.webhookDelivery(refused ? 'rejected' : 'error');
      throw error;
    }
  }

  return {
    handle: (req: WebhookRequest): Promise<WebhookOutcome> =>
      counted(async () => {
        const stack = authenticate(req);
        const event = parseWebhook(req.header, req.body);
        return early(event) ?? forStack(stack, event);
      }),

    /**
     * One webhook for a whole repository: every stack that follows the pushed repository
     * and whose webhook_secret the signature matches (or every one, with the API key) gets
     * the push, each with its own branch, changed-file and delivery checks.
     */
    handleRepository: (req: Omit<WebhookRequest, 'stack'>): Promise<RepositoryOutcome> =>
      counted(() => handleRepository(req)),
  };

  async function handleRepository(req: Omit<WebhookRequest, 'stack'>): Promise<RepositoryOutcome> {
    const event = parseWebhook(req.header, req.body);
    const repos = new Set(event.repositories);
    const candidates = listStacks(db).filter((s) => {
      const key = s.repoUrl ? repoKey(s.repoUrl) : undefined;
      return key !== undefined && repos.has(key);
    });
    const authorized = candidates.filter((s) => {
      let secret: string | undefined;
      try {
        secret = webhookSecretOf(s);
      } catch (error) {
        // One stack whose secrets cannot be read must not shut the others out.
        logger.warn('webhook: cannot read a stack secret', { stack: s.name, error });
      }
      // Verified for every candidate, so the answer's timing does not tell which matched.
      const method = verifyWebhookSignature(
        req.header,
        req.body,
        secret ?? DECOY_SECRET,
        s.webhookSignatureHeader,
      );
      return req.apiKeyValid || (secret !== undefined && method !== undefined);
    });
    if (authorized.length === 0) {
      if (candidates.length === 0) verifyWebhookSignature(req.header, req.body, DECOY_SECRET);
      if (req.apiKeyValid) {
        throw validation(
          `no stack follows ${event.repositories[0] ?? 'the repository this payload names'}: the payload's repository URL must match a stack's repo_url`,
        );
      }
      throw webhookUnauthorized();
    }
    const first = early(event);
    if (first) return first;
    const stacks: { stack: string; outcome: WebhookOutcome }[] = [];
    for (const s of authorized) stacks.push({ stack: s.name, outcome: await forStack(s, event) });
    return { kind: 'stacks', stacks };
  }
}

/** A delivery's result label: queued when it queued a deploy for any stack. */
function deliveryResult(outcome: WebhookOutcome | RepositoryOutcome): WebhookResult {
  if (outcome.kind !== 'stacks') return outcome.kind;
  return outcome.stacks.some((s) => s.outcome.kind === 'queued') ? 'queued' : 'ignored';
}

export type WebhookService = ReturnType<typeof createWebhookService>;
