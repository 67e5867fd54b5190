import type {
  AuditLog,
  ContainerService,
  Deployer,
  HostService,
  KeyService,
  Lifecycle,
  StackService,
} from '@simpledeploy/deployer';
import type { DriftService, ImageUpdates, WebhookService } from '@simpledeploy/gitops';
import type { NotifierService } from '@simpledeploy/notify';

/** Drift reports and git-host webhooks (packages/gitops). */
export interface GitopsDeps {
  drift: Pick<DriftService, 'report'>;
  webhooks: Pick<WebhookService, 'handle' | 'handleRepository'>;
  /** Image update checks; without them `.../updates` answers 503. */
  updates?: Pick<ImageUpdates, 'report'> | undefined;
}

/** The domain services behind the stack, deployment and log routes. */
export interface DomainDeps {
  deployer: Deployer;
  stacks: StackService;
  lifecycle: Lifecycle;
  /** Container logs and stats of a stack's services. */
  containers: ContainerService;
  /** The stored API keys (the key from the environment is apart: AppDeps.apiKey). */
  keys: KeyService;
  /** The Docker hosts stacks run on. */
  hosts: HostService;
  /** Every change and action: who, what, on what, how it ended. */
  audit: AuditLog;
  /** Without it, `.../drift` and `.../webhook` answer 503. */
  gitops?: GitopsDeps | undefined;
  /** Notifiers and their deliveries; without it, `/api/v1/notifiers…` answers 503. */
  notifiers?: NotifierService | undefined;
}
