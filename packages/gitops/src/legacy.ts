import type { Logger } from '@simpledeploy/core';
import type { StackService, StackView } from '@simpledeploy/deployer';

/** Accelero's single-stack settings: REPO_URL, REPO_USERNAME, REPO_TOKEN, REPO_BRANCH, COMPOSE_PATH. */
export interface LegacyRepo {
  url: string;
  username?: string | undefined;
  token?: string | undefined;
  branch?: string | undefined;
  composePath?: string | undefined;
}

export const LEGACY_STACK_NAME = 'default';

export interface LegacyOptions {
  /** Legacy mode followed its branch: deploy new commits by default. */
  autoDeploy?: boolean;
  /** Default 60 s. */
  reconcileIntervalSeconds?: number;
}

/**
 * Legacy single-stack mode: when REPO_URL is set and no stack named `default` exists,
 * creates it through the stack service (validation and encryption apply). With
 * auto_deploy the reconciler's first poll deploys it. Returns the stack when created.
 */
export async function ensureLegacyStack(
  deps: { stacks: Pick<StackService, 'list' | 'create'>; logger: Logger },
  repo: LegacyRepo | undefined,
  options: LegacyOptions = {},
): Promise<StackView | undefined> {
  if (!repo) return undefined;
  if (deps.stacks.list().some((s) => s.name === LEGACY_STACK_NAME)) return undefined;
  const stack = await deps.stacks.create({
    name: LEGACY_STACK_NAME,
    repo_url: repo.url,
    ...(repo.username ? { repo_username: repo.username } : {}),
    ...(repo.token ? { repo_token: repo.token } : {}),
    ...(repo.branch ? { repo_branch: repo.branch } : {}),
    ...(repo.composePath ? { compose_path: repo.composePath } : {}),
    auto_deploy: options.autoDeploy ?? true,
    reconcile_interval_seconds: options.reconcileIntervalSeconds ?? 60,
  });
  deps.logger.info('legacy mode: created the stack "default" from REPO_URL', {
    stack: stack.id,
    repo_url: stack.repo_url,
  });
  return stack;
}
