import { createChangeBus } from './change-bus';
import { createDeployer, type DeployerDeps, defaultIds } from './deployer';
import { createLifecycle } from './lifecycle';
import { createStackLocator } from './stack-locator';
import { createStackService } from './stack-service';

/** Wires the deployer, the stack service and lifecycle commands over one set of ports. */
export function createServices(deps: DeployerDeps) {
  const ids = deps.ids ?? defaultIds(deps.clock);
  // One change bus and one stack locator, injected into every service that needs them.
  const changes = createChangeBus();
  const locator = createStackLocator(deps.db, deps.config);
  const deployer = createDeployer({ ...deps, ids, changes, locator });
  const stacks = createStackService({
    db: deps.db,
    clock: deps.clock,
    secrets: deps.secrets,
    deployer,
    changes,
    locator,
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
    changes,
    locator,
    ids,
    config: deps.config,
  });
  return { deployer, stacks, lifecycle };
}

export type Services = ReturnType<typeof createServices>;
