import type {} from './provided-context.js';

export type {
  ProvidedDocker,
  ProvidedGitServer,
  ProvidedRegistry,
  SimpledeployProvidedContext,
} from './context.js';
export {
  CommandError,
  compose,
  composeOk,
  docker,
  dockerOk,
  type RunOptions,
  type RunResult,
  run,
  runOk,
} from './exec.js';
export {
  type BranchOptions,
  type GitRepoStore,
  type GitRepoStoreOptions,
  gitRepoStore,
  type RecordedRequest,
  type RedirectingServer,
  type RepoFiles,
  type StartGitServerOptions,
  type StartRedirectingServerOptions,
  startGitServer,
  startRedirectingServer,
  type TestGitServer,
  type TestRepo,
} from './git-server.js';
export {
  buildLocalTestImages,
  buildTestImages,
  removeRegistryTags,
  TEST_LABEL,
  type TestImages,
  WEB_CONTAINER_PORT,
} from './images.js';
export { createMovingTag, type MovingTag } from './moving-tag.js';
export { getFreePort, waitFor } from './net.js';
export {
  type ComposeProject,
  checkDocker,
  cleanupProject,
  cleanupTestResources,
  createComposeProject,
  type DockerStatus,
  projectResources,
  TEST_PROJECT_PREFIX,
  uniqueProjectName,
  writeDockerConfig,
} from './projects.js';
export {
  type MetricFamily,
  parsePrometheusText,
  type Sample,
  sampleValue,
} from './prometheus-text.js';
export {
  type RegistryCredentials,
  type StartRegistryOptions,
  startRegistry,
  type TestRegistry,
} from './registry.js';
export {
  type ClientTls,
  ensureTestHostImage,
  type HostRegistry,
  loadImage,
  type StartTestHostsOptions,
  type SwarmNode,
  startTestHosts,
  TEST_HOST_IMAGE_SCRIPT,
  TEST_HOST_LABEL,
  type TestHost,
  type TestHosts,
  type TestSwarm,
} from './test-hosts/index.js';
