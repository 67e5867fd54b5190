import { createDeployer, type DeployerDeps, defaultIds } from './deployer';
import { createLifecycle } from './lifecycle';
import { createStackService } from './stack-service';

/** Wires the deployer, the stack service and lifecycle commands over one set of ports. */
export function createServices(deps: DeployerDeps) {
  const ids = deps.ids ?? defaultIds(deps.clock);
  const deployer = createDeployer({ ...deps, ids });
  const stacks = createStackService({
    db: deps.db,
    clock: deps.clock,
    secrets: deps.secrets,
    deployer,
    ids,
    redact: deps.redact,
  });
  const lifecycle = createLifecycle({
    db: deps.db,
    runner: deps.runner,
    clock: deps.clock,
    secrets: deps.secrets,
    redact: deps.redact,
    deployer,
    ids,
    config: deps.config,
  });
  return { deployer, stacks, lifecycle };
}

export type Services = ReturnType<typeof createServices>;
