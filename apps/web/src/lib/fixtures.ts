// Whole API objects for unit tests: the contract's types have every field, so a test
// states only what it is about and gets the server's defaults for the rest.
import type { Deployment, Stack } from '../api';

const T = '2026-01-01T00:00:00Z';

export const stackFixture = (over: Partial<Stack> = {}): Stack => ({
  id: 's1',
  uuid: '00000000-0000-4000-8000-000000000001',
  name: 'web',
  source: over.repo_url ? 'git' : 'inline',
  compose: null,
  repo_url: null,
  repo_username: null,
  repo_branch: null,
  compose_path: null,
  compose_includes: [],
  compose_variables: {},
  service_filter: [],
  policy_exceptions: [],
  update_order: 'stop-first',
  auto_deploy: false,
  reconcile_interval_seconds: 0,
  auto_rollback: true,
  deploy_timeout_seconds: 900,
  docker_registry: null,
  docker_username: null,
  registries: [],
  has_repo_token: false,
  has_webhook_secret: false,
  webhook_signature_header: null,
  has_docker_password: false,
  status: 'idle',
  last_deployment: null,
  current_version_id: null,
  deployed_commit: null,
  remote_commit: null,
  behind: false,
  poll: { last_poll_at: null, last_error: null, failures: 0 },
  created_at: T,
  updated_at: T,
  ...over,
});

export const deploymentFixture = (over: Partial<Deployment> = {}): Deployment => ({
  id: 'd1',
  stack_id: 's1',
  status: 'queued',
  trigger: 'manual',
  ref: null,
  git_commit: null,
  version_id: null,
  error: null,
  queued_at: T,
  started_at: null,
  finished_at: null,
  duration_ms: null,
  ...over,
});
