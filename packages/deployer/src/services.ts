import { isFinished, type Metrics, noopMetrics } from '@simpledeploy/core';
import { findDeploymentsByStatus, findStack } from '@simpledeploy/db';
import { createKeyService } from './api-keys';
import { createAuditLog } from './audit-log';
import { type ChangeBus, createChangeBus } from './change-bus';
import { createContainerService } from './containers';
import { createDeployer, type DeployerDeps, defaultIds } from './deployer';
import { createHostConnections, createHostHealth, createHostService } from './hosts';
import { createLifecycle } from './lifecycle';
import { createStackLocator } from './stack-locator';
import { createStackService } from './stack-service';

/** Deployments no request asked for: the audit log records them as the system's actions. */
const SYSTEM_TRIGGERS = new Set(['poll', 'drift', 'image_update']);

/**
 * Wires the deployer, the stack service, lifecycle commands, API keys and the audit log
 * over one set of ports.
 */
export function createServices(
  deps: Omit<DeployerDeps, 'hosts'> & { metrics?: Metrics | undefined },
) {
  const ids = deps.ids ?? defaultIds(deps.clock);
  // One change bus and one stack locator, injected into every service that needs them.
  const changes = createChangeBus();
  const locator = createStackLocator(deps.db, deps.config);
  const connections = createHostConnections({
    db: deps.db,
    secrets: deps.secrets,
    logger: deps.logger,
    childEnv: deps.config.childEnv,
    runDir: locator.runDir,
  });
  const deployer = createDeployer({ ...deps, ids, changes, locator, hosts: connections });
  const hostHealth = createHostHealth({
    db: deps.db,
    runner: deps.runner,
    docker: deps.config.dockerBin ?? 'docker',
    clock: deps.clock,
    logger: deps.logger,
    connections,
  });
  const hosts = createHostService({
    db: deps.db,
    clock: deps.clock,
    secrets: deps.secrets,
    ids,
    connections,
    checkSoon: (h) => void hostHealth.check(h),
  });
  const stacks = createStackService({
    db: deps.db,
    clock: deps.clock,
    secrets: deps.secrets,
    deployer,
    changes,
    locator,
    ids,
    redact: deps.redact,
    runner: deps.runner,
    config: deps.config,
  });
  const lifecycle = createLifecycle({
    db: deps.db,
    runner: deps.runner,
    clock: deps.clock,
    secrets: deps.secrets,
    redact: deps.redact,
    deployer,
    changes,
    locator,
    ids,
    config: deps.config,
  });
  const keys = createKeyService({ db: deps.db, clock: deps.clock, logger: deps.logger, ids });
  const audit = createAuditLog({ db: deps.db, clock: deps.clock, logger: deps.logger });
  changes.onChange((e) => {
    if (e.type !== 'deployment' || e.deployment.status !== 'queued') return;
    if (!SYSTEM_TRIGGERS.has(e.deployment.trigger)) return;
    const stack = findStack(deps.db, e.deployment.stack_id);
    audit.record({
      via: 'system',
      action: `stack.deploy.${e.deployment.trigger}`,
      target: `deployment ${e.deployment.id}`,
      stackId: e.deployment.stack_id,
      stackName: stack?.name,
      result: 'ok',
    });
  });
  const containers = createContainerService({
    deployer,
    runner: deps.runner,
    clock: deps.clock,
    secrets: deps.secrets,
    redact: deps.redact,
    docker: deps.config.dockerBin,
  });
  const metrics = deps.metrics ?? noopMetrics;
  countDeployments(metrics, deps.db, changes);
  return {
    deployer,
    stacks,
    lifecycle,
    keys,
    audit,
    metrics,
    containers,
    hosts,
    hostHealth,
    connections,
  };
}

export type Services = ReturnType<typeof createServices>;

/**
 * Feeds the deployment metrics: each end (status, trigger, duration) from the change bus,
 * the queue and running gauges from the database when scraped (right after a restart too).
 */
function countDeployments(metrics: Metrics, db: DeployerDeps['db'], changes: ChangeBus) {
  metrics.observeQueue(() => {
    const open = findDeploymentsByStatus(db, ['queued', 'running']);
    const queued = open.filter((d) => d.status === 'queued').length;
    return { queued, running: open.length - queued };
  });
  changes.onChange((e) => {
    if (e.type !== 'deployment' || !isFinished(e.deployment.status)) return;
    const ms = e.deployment.duration_ms;
    metrics.deploymentEnded({
      status: e.deployment.status,
      trigger: e.deployment.trigger,
      durationSeconds: ms === null ? null : ms / 1000,
    });
  });
}
