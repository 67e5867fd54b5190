export type { SwarmService, SwarmTask } from './service-status';
export { diffSwarmDrift, type SwarmTaskRow, swarmTaskRows } from './swarm-view';
export { type SwarmProblem, swarmProblems } from './unsupported-keys';
