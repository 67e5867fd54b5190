export { boundSourcesInside } from './bound-sources';
export { createHostConnections, type HostConnections, hostError } from './connections';
export { type HostAddress, parseDockerHost } from './docker-host-url';
export { createHostHealth, type HostHealth } from './health';
export {
  createHostService,
  type HostInput,
  type HostService,
  type HostView,
  LOCAL_HOST,
} from './host-service';
export { hostKeyPinned, parseKnownHosts } from './known-hosts';
