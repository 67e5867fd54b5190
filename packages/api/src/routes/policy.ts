import { POLICY_RULE_NAMES, POLICY_RULES } from '@simpledeploy/deployer';
import { Hono } from 'hono';
import { PolicyResponse } from '../contract';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { describeRoute } from '../openapi';

/** The host policy in force (api.md "Host policy"): what every stack may do to its host. */
export function policyRoutes({ deployer }: DomainDeps) {
  return new Hono<AppEnv>().get(
    '/api/v1/policy',
    describeRoute({
      id: 'getPolicy',
      summary: 'The host policy in force: what every stack may do to its host',
      tag: 'policy',
      responses: { 200: PolicyResponse },
    }),
    (c) => {
      const policy = deployer.serverPolicy;
      return c.json({
        policy: {
          checked_on: 'docker compose config (the model compose itself resolves)',
          allowed_host_paths: policy.allowedHostPaths,
          allowed_rules: policy.allowedRules,
          rules: POLICY_RULE_NAMES.map((name) => ({
            name,
            description: POLICY_RULES[name],
            allowed: policy.allowedRules.includes(name),
          })),
          exceptions:
            "a stack's policy_exceptions lists rule names and absolute host path prefixes it may use beyond this policy",
        },
      });
    },
  );
}
