import { POLICY_RULE_NAMES, type PolicyRule } from '@simpledeploy/deployer';
import { z } from 'zod';
import { named } from './common';

const PolicyRuleName = z.enum(POLICY_RULE_NAMES as [PolicyRule, ...PolicyRule[]]);

/** `GET /api/v1/policy`: the host policy in force (api.md "Host policy"). */
export const PolicyResponse = named.response(
  'PolicyResponse',
  z.strictObject({
    policy: z.strictObject({
      checked_on: z.string(),
      allowed_host_paths: z.array(z.string()),
      allowed_rules: z.array(PolicyRuleName),
      rules: z.array(
        z.strictObject({ name: PolicyRuleName, description: z.string(), allowed: z.boolean() }),
      ),
      exceptions: z.string(),
    }),
  }),
);
