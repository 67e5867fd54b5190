export type { SwarmService, SwarmTask } from './service-status';
export { deployAndWait } from './swarm-deploy';
export { diffSwarmDrift, type SwarmTaskRow, swarmTaskRows } from './swarm-view';
export { type SwarmProblem, swarmProblems } from './unsupported-keys';
