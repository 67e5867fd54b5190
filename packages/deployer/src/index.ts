export {
  type HostPolicy,
  isPolicyRule,
  POLICY_RULE_NAMES,
  POLICY_RULES,
  type PolicyRule,
  type Violation,
} from '@simpledeploy/compose';
export * from './api-keys';
export * from './audit-log';
export * from './change-bus';
export * from './child-env';
export * from './compose-session';
export * from './containers';
export * from './deployer';
export * from './deployment-retention';
export * from './git-source';
export * from './hosts';
export * from './lifecycle';
export * from './log-bus';
export * from './policy-gate';
export * from './prom-metrics';
export * from './runner/compose-plugin';
export * from './runner/execa-runner';
export * from './services';
export * from './sources';
export * from './stack-input';
export * from './stack-locator';
export * from './stack-secrets';
export * from './stack-service';
export * from './swarm';
export * from './views';
export * from './workspace';
