import type { Deployer, Lifecycle, StackService } from '@simpledeploy/deployer';

/** The domain services behind the stack, deployment and log routes. */
export interface DomainDeps {
  deployer: Deployer;
  stacks: StackService;
  lifecycle: Lifecycle;
}
