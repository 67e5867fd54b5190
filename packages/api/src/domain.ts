import type {
  AuditLog,
  Deployer,
  KeyService,
  Lifecycle,
  StackService,
} from '@simpledeploy/deployer';
import type { DriftService, WebhookService } from '@simpledeploy/gitops';
import type { NotifierService } from '@simpledeploy/notify';

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
  /** The stored API keys (the key from the environment is apart: AppDeps.apiKey). */
  keys: KeyService;
  /** Every change and action: who, what, on what, how it ended. */
  audit: AuditLog;
  /** Without it, `.../drift` and `.../webhook` answer 503. */
  gitops?: GitopsDeps | undefined;
  /** Notifiers and their deliveries; without it, `/api/v1/notifiers…` answers 503. */
  notifiers?: NotifierService | undefined;
}
