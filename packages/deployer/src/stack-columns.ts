import { checkComposeYaml } from '@simpledeploy/compose';
import { assertRefName, isServiceName, type SecretBox, validation } from '@simpledeploy/core';
import type { NewStackRow, StackRow } from '@simpledeploy/db';
import { assertRelativeInside, assertRepoUrl } from '@simpledeploy/git';
import type { StackPatch } from './stack-input';
import { decryptSecrets, type StoredRegistries } from './stack-secrets';

/**
 * Applies a validated patch onto a row's columns: secrets encrypted on the way in, paths
 * and URLs checked. Checks that need the merged result run after, in the stack service.
 */
export function stackColumns(
  patch: StackPatch,
  current: StackRow | undefined,
  box: SecretBox,
): Partial<NewStackRow> {
  const enc = (v: string | null | undefined) => (v ? box.encrypt(v) : null);
  const out: Partial<NewStackRow> = {};
  if (patch.compose !== undefined) {
    out.compose = patch.compose;
    if (patch.compose !== null) checkComposeYaml(patch.compose);
  }
  if (patch.repo_url !== undefined)
    out.repoUrl = patch.repo_url === null ? null : assertRepoUrl(patch.repo_url);
  if (patch.repo_username !== undefined) out.repoUsername = patch.repo_username || null;
  if (patch.repo_token !== undefined) out.repoTokenEnc = enc(patch.repo_token);
  if (patch.repo_branch !== undefined) {
    out.repoBranch =
      patch.repo_branch === null ? null : assertRefName(patch.repo_branch, 'repo_branch');
  }
  if (patch.compose_path !== undefined) {
    out.composePath =
      patch.compose_path === null ? null : assertRelativeInside(patch.compose_path, 'compose_path');
  }
  if (patch.compose_includes !== undefined) {
    out.composeIncludes = patch.compose_includes.map((p, i) =>
      assertRelativeInside(p, `compose_includes[${i}]`),
    );
  }
  if (patch.compose_variables !== undefined) out.composeVariables = patch.compose_variables;
  if (patch.service_filter !== undefined) {
    for (const s of patch.service_filter) {
      if (!isServiceName(s))
        throw validation(`service_filter: "${s}" is not a service name`, {
          field: 'service_filter',
        });
    }
    out.serviceFilter = patch.service_filter;
  }
  if (patch.policy_exceptions !== undefined)
    out.policyExceptions = [...new Set(patch.policy_exceptions)];
  if (patch.update_order !== undefined) out.updateOrder = patch.update_order;
  if (patch.engine !== undefined) out.engine = patch.engine;
  if (patch.auto_deploy !== undefined) out.autoDeploy = patch.auto_deploy;
  if (patch.reconcile_interval_seconds !== undefined) {
    if (patch.reconcile_interval_seconds > 0 && patch.reconcile_interval_seconds < 5) {
      throw validation('reconcile_interval_seconds must be 0 (never) or at least 5', {
        field: 'reconcile_interval_seconds',
      });
    }
    out.reconcileIntervalSeconds = patch.reconcile_interval_seconds;
  }
  if (patch.auto_rollback !== undefined) out.autoRollback = patch.auto_rollback;
  if (patch.auto_update !== undefined) out.autoUpdate = patch.auto_update;
  if (patch.update_check_interval_seconds !== undefined) {
    if (patch.update_check_interval_seconds > 0 && patch.update_check_interval_seconds < 10) {
      throw validation('update_check_interval_seconds must be 0 (never) or at least 10', {
        field: 'update_check_interval_seconds',
      });
    }
    out.updateCheckIntervalSeconds = patch.update_check_interval_seconds;
  }
  if (patch.commit_status !== undefined) out.commitStatus = patch.commit_status;
  if (patch.commit_status_api_url !== undefined)
    out.commitStatusApiUrl = patch.commit_status_api_url?.replace(/\/+$/, '') || null;
  if (patch.deploy_timeout_seconds !== undefined)
    out.deployTimeoutSeconds = patch.deploy_timeout_seconds;
  if (patch.webhook_secret !== undefined) out.webhookSecretEnc = enc(patch.webhook_secret);
  if (patch.webhook_signature_header !== undefined)
    out.webhookSignatureHeader = patch.webhook_signature_header;

  const touchesRegistries =
    patch.docker_registry !== undefined ||
    patch.docker_username !== undefined ||
    patch.docker_password !== undefined ||
    patch.registries !== undefined;
  if (touchesRegistries) {
    const prev: StoredRegistries = current
      ? decryptSecrets(current, box).registries
      : { extra: [] };
    const docker = {
      registry:
        patch.docker_registry !== undefined
          ? patch.docker_registry
          : (prev.docker?.registry ?? null),
      username:
        patch.docker_username !== undefined
          ? patch.docker_username
          : (prev.docker?.username ?? null),
      password:
        patch.docker_password !== undefined
          ? patch.docker_password
          : (prev.docker?.password ?? null),
    };
    if (!!docker.username !== !!docker.password) {
      throw validation('docker_username and docker_password go together: set both or neither', {
        field: docker.username ? 'docker_password' : 'docker_username',
      });
    }
    const next: StoredRegistries = {
      ...(docker.registry || docker.username || docker.password ? { docker } : {}),
      extra: patch.registries ?? prev.extra,
    };
    out.registriesEnc = next.docker || next.extra.length ? box.encrypt(JSON.stringify(next)) : null;
  }
  return out;
}
