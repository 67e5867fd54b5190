import type { Deployer, Lifecycle, StackService } from '@simpledeploy/deployer';
import type { DriftService, WebhookService } from '@simpledeploy/gitops';

/** Drift reports and git-host webhooks (packages/gitops). */
export interface GitopsDeps {
  drift: Pick<DriftService, 'report'>;
  webhooks: Pick<WebhookService, 'handle' | 'handleRepository'>;
}

/** The domain services behind the stack, deployment and log routes. */
export interface DomainDeps {
  deployer: Deployer;
  stacks: StackService;
  lifecycle: Lifecycle;
  /** Without it, `.../drift` and `.../webhook` answer 503. */
  gitops?: GitopsDeps | undefined;
}
