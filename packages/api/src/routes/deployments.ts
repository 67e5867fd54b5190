import { Hono } from 'hono';
import {
  DeployBody,
  DeployFailed,
  DeploymentDetailResponse,
  DeploymentList,
  DeploymentResponse,
  DeployQuery,
  DeployResult,
  DeployWaited,
  RollbackBody,
  VersionList,
  VersionResponse,
  WebhookBody,
} from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { errorBody } from '../errors';
import { describeRoute } from '../openapi';
import { jsonBody, query } from '../validate';

const tag = 'deployments';

/** Deploy, history, one deployment with its log, cancel; versions and rollback. */
export function deploymentRoutes({ deployer }: DomainDeps) {
  return new Hono<AppEnv>()
    .post(
      '/api/v1/stacks/:stack/deploy',
      describeRoute({
        id: 'deployStack',
        summary: 'Queue a deployment of the stack',
        description:
          'Runs in the background. A trigger that arrives while one is queued for the stack joins it (`coalesced`).',
        tag,
        responses: { 200: DeployWaited, 202: DeployResult, 422: DeployFailed },
        errors: [503],
      }),
      jsonBody(DeployBody, { optional: true }),
      query(DeployQuery),
      async (c) => {
        const { ref, force } = c.req.valid('json');
        const res = deployer.deploy(c.req.param('stack'), { trigger: 'manual', ref, force });
        if (c.req.valid('query').wait !== 'true') return c.json(res, 202);
        // For CI pipelines: hold the response until the deployment ends.
        const done = deployer.getDeployment((await deployer.waitFor(res.deployment.id)).id);
        if (done.status === 'succeeded')
          return c.json({ deployment: done, coalesced: res.coalesced }, 200);
        return c.json(
          {
            ...errorBody(
              'VALIDATION',
              `deployment ${done.id} ended ${done.status}: ${done.error ?? 'see its log'}`,
              { deployment_id: done.id, status: done.status },
            ),
            deployment: done,
          },
          422,
        );
      },
    )
    .get(
      '/api/v1/stacks/:stack/deployments',
      describeRoute({
        id: 'listDeployments',
        summary: "The stack's 50 most recent deployments, newest first",
        tag,
        responses: { 200: DeploymentList },
      }),
      (c) => c.json({ deployments: deployer.listDeployments(c.req.param('stack')) }),
    )
    .get(
      '/api/v1/deployments/:id',
      describeRoute({
        id: 'getDeployment',
        summary: 'One deployment with its full log (redacted)',
        tag,
        responses: { 200: DeploymentDetailResponse },
      }),
      (c) => c.json({ deployment: deployer.getDeployment(c.req.param('id')) }),
    )
    .post(
      '/api/v1/deployments/:id/cancel',
      describeRoute({
        id: 'cancelDeployment',
        summary: 'Cancel a queued or running deployment',
        tag,
        responses: { 202: DeploymentResponse },
        errors: [409],
      }),
      (c) => c.json({ deployment: deployer.cancel(c.req.param('id')) }, 202),
    )
    .post(
      '/api/v1/stacks/:stack/cancel',
      describeRoute({
        id: 'cancelStackDeployment',
        summary: "Cancel the stack's running deployment, else its queued one",
        tag,
        responses: { 202: DeploymentResponse },
        errors: [409],
      }),
      (c) => c.json({ deployment: deployer.cancelStack(c.req.param('stack')) }, 202),
    )
    .get(
      '/api/v1/stacks/:stack/versions',
      describeRoute({
        id: 'listVersions',
        summary: 'Every version of the stack that was deployed',
        tag: 'versions',
        responses: { 200: VersionList },
      }),
      (c) => c.json({ versions: deployer.listVersions(c.req.param('stack')) }),
    )
    .get(
      '/api/v1/stacks/:stack/versions/:id',
      describeRoute({
        id: 'getVersion',
        summary: 'One version with its files (secrets redacted)',
        tag: 'versions',
        responses: { 200: VersionResponse },
      }),
      (c) => c.json({ version: deployer.getVersion(c.req.param('stack'), c.req.param('id')) }),
    )
    .post(
      '/api/v1/stacks/:stack/rollback',
      describeRoute({
        id: 'rollbackStack',
        summary: 'Re-apply an earlier version (trigger `rollback`)',
        description: 'Needs neither git nor the network: the version holds what it needs.',
        tag: 'versions',
        responses: { 202: DeploymentResponse },
        errors: [409, 503],
      }),
      jsonBody(RollbackBody, { optional: true }),
      (c) =>
        c.json(
          { deployment: deployer.rollback(c.req.param('stack'), c.req.valid('json').version_id) },
          202,
        ),
    )
    .post(
      '/webhook',
      describeRoute({
        id: 'webhookDeploy',
        summary: "Deploy a stack by name (Accelero's webhook)",
        description: 'Without `stack`: the stack named `default`, else the oldest stack.',
        tag: 'webhooks',
        responses: { 202: DeployResult },
        errors: [503],
      }),
      jsonBody(WebhookBody, { optional: true }),
      (c) => {
        const target = c.req.valid('json').stack ?? deployer.defaultStackName();
        return c.json(deployer.deploy(target, { trigger: 'webhook' }), 202);
      },
    );
}
