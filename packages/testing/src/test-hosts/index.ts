export {
  type HostRegistry,
  type StartTestHostsOptions,
  startTestHosts,
  type TestHost,
  type TestHosts,
} from './hosts.js';
export { ensureTestHostImage, TEST_HOST_IMAGE_SCRIPT } from './image.js';
export type { ClientTls } from './keys.js';
export { TEST_HOST_LABEL } from './leftovers.js';
export { loadImage } from './load-image.js';
export type { SwarmNode, TestSwarm } from './swarm.js';
