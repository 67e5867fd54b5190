import { AppError } from '@simpledeploy/core';
import type { RepositoryOutcome, WebhookOutcome } from '@simpledeploy/gitops';
import { type Context, Hono } from 'hono';
import {
  Drift,
  ImageUpdates,
  RepositoryWebhookAccepted,
  WebhookAccepted,
  WebhookPing,
} from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps, GitopsDeps } from '../domain';
import { hasValidApiKey } from '../middleware/auth';
import { describeRoute } from '../openapi';

/**
 * The git-host webhooks (`POST /api/v1/stacks/{stack}/webhook` and the repository-wide
 * `POST /api/v1/webhooks/repository`) authenticate themselves: the global API-key check skips them.
 */
export const isStackWebhook = (c: Context) =>
  c.req.method === 'POST' &&
  /^\/api\/v1\/(stacks\/[^/]+\/webhook|webhooks\/repository)\/?$/.test(c.req.path);

const notEnabled = () =>
  new AppError('UNAVAILABLE', 'drift and git webhooks are not enabled on this server');

/** A webhook's domain outcome as the HTTP answer: a ping 200, anything else 202. */
export function webhookAnswer(outcome: WebhookOutcome) {
  switch (outcome.kind) {
    case 'ping':
      return { status: 200 as const, body: { ok: true as const, event: 'ping' as const } };
    case 'ignored':
      return {
        status: 202 as const,
        body: { ignored: outcome.reason, event: outcome.event, delivery_id: outcome.deliveryId },
      };
    case 'queued':
      return {
        status: 202 as const,
        body: {
          deployment: outcome.deployment,
          coalesced: outcome.coalesced,
          commit: outcome.commit,
          delivery_id: outcome.deliveryId,
        },
      };
    default: {
      const unhandled: never = outcome;
      throw new Error(`no answer for webhook outcome ${JSON.stringify(unhandled)}`);
    }
  }
}

function repositoryAnswer(outcome: RepositoryOutcome) {
  if (outcome.kind !== 'stacks') return webhookAnswer(outcome);
  return {
    status: 202 as const,
    body: {
      stacks: outcome.stacks.map(({ stack, outcome: o }) => ({
        stack,
        ...webhookAnswer(o).body,
      })),
    },
  };
}

const signed = {
  tag: 'webhooks',
  auth: 'signed' as const,
  errors: [503],
};

/** Drift reports and the per-stack git-host webhook. */
export function gitopsRoutes(domain: DomainDeps, apiKey: string) {
  const gitops = (): GitopsDeps => {
    if (!domain.gitops) throw notEnabled();
    return domain.gitops;
  };
  /** The raw bytes, as the git host signed them; the global body limit applies while reading. */
  const readSigned = async (c: Context<AppEnv>) => {
    const body = new Uint8Array(await c.req.arrayBuffer());
    const apiKeyValid = hasValidApiKey(c, apiKey);
    if (!domain.gitops && !apiKeyValid) {
      c.header('WWW-Authenticate', 'Bearer');
      throw new AppError('UNAUTHORIZED', 'a valid webhook signature or the API key is required');
    }
    return { body, apiKeyValid, header: (name: string) => c.req.header(name) };
  };
  return new Hono<AppEnv>()
    .get(
      '/api/v1/stacks/:stack/drift',
      describeRoute({
        id: 'getDrift',
        summary: "Drift between the stack's current version, its containers and git",
        tag: 'stacks',
        responses: { 200: Drift },
        errors: [503],
      }),
      async (c) => c.json(await gitops().drift.report(c.req.param('stack'))),
    )
    .get(
      '/api/v1/stacks/:stack/updates',
      describeRoute({
        id: 'getImageUpdates',
        summary: "Whether the registry has newer images for the stack's tags (without pulling)",
        description:
          "Asks each service's registry now, with the stack's registry login, for the manifest digest of its tag and compares it with the digest the running container's image was pulled as. The result is also stored: the stack's `image_updates` shows it.",
        tag: 'stacks',
        responses: { 200: ImageUpdates },
        errors: [503],
      }),
      async (c) => {
        const updates = gitops().updates;
        if (!updates)
          throw new AppError('UNAVAILABLE', 'image update checks are not enabled on this server');
        return c.json(await updates.report(c.req.param('stack')));
      },
    )
    .post(
      '/api/v1/stacks/:stack/webhook',
      describeRoute({
        ...signed,
        id: 'stackWebhook',
        summary: "A git host's push for one stack (GitHub, Gitea/Forgejo/Gogs, GitLab)",
        description:
          'A push to another branch, to files the stack does not read, or a delivery seen before is answered 202 with `ignored` and deploys nothing; a ping is answered 200. Bodies over 1 MiB: 413.',
        responses: { 200: WebhookPing, 202: WebhookAccepted },
        errors: [...signed.errors, 413],
      }),
      async (c) => {
        const req = await readSigned(c);
        // The access check read this {stack} for the audit log (null: there is none); it
        // is not read again, so a known and an unknown stack still cost the same.
        const access = c.get('access');
        const found = access?.match?.rule.stack ? (access.stack?.row ?? null) : undefined;
        const { status, body } = webhookAnswer(
          await gitops().webhooks.handle({
            ...req,
            stack: c.req.param('stack'),
            ...(found === undefined ? {} : { found }),
          }),
        );
        return c.json(body, status);
      },
    )
    .post(
      '/api/v1/webhooks/repository',
      describeRoute({
        ...signed,
        id: 'repositoryWebhook',
        summary: 'One webhook for a whole repository: every stack that follows it gets the push',
        description:
          "Each stack whose webhook_secret the signature matches (every one, with the API key) gets the push, with its own branch, changed-file and delivery checks. 400 with the API key when no stack follows the payload's repository.",
        responses: { 200: WebhookPing, 202: RepositoryWebhookAccepted },
        errors: [...signed.errors, 400, 413],
      }),
      async (c) => {
        const req = await readSigned(c);
        const { status, body } = repositoryAnswer(await gitops().webhooks.handleRepository(req));
        return c.json(body, status);
      },
    );
}
