export const DEPLOYMENT_STATUSES = [
  'queued',
  'running',
  'succeeded',
  'failed',
  'canceled',
  'rolled_back',
  'interrupted',
] as const;
export type DeploymentStatus = (typeof DEPLOYMENT_STATUSES)[number];

export const TRIGGERS = [
  'manual',
  'webhook',
  'poll',
  'drift',
  'rollback',
  'api',
  'image_update',
] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** Statuses after which a deployment never changes again. */
export const FINISHED_STATUSES: ReadonlySet<DeploymentStatus> = new Set([
  'succeeded',
  'failed',
  'canceled',
  'rolled_back',
  'interrupted',
]);

export const isFinished = (s: DeploymentStatus) => FINISHED_STATUSES.has(s);

export type StackStatus = 'idle' | 'queued' | 'deploying';

export interface RegistryCredential {
  registry: string;
  username: string;
  password: string;
}

/** Everything that shapes one deploy of a stack; its sha256 is the version key. */
export interface DesiredState {
  /** Relative path → content of every file the deploy needs. */
  files: Record<string, string>;
  /** Compose files, relative, in `-f` order. */
  composeFiles: string[];
  /** Relative path of the env file compose reads, if any. */
  envFile?: string | undefined;
  /** Interpolation variables given to compose on top of the env file. */
  variables: Record<string, string>;
  /** Services to pull and start; empty means all. */
  services: string[];
}

export type ControlCommand =
  | 'start'
  | 'stop'
  | 'restart'
  | 'pull'
  | 'down'
  | 'scale'
  | 'pause'
  | 'unpause';
export const CONTROL_COMMANDS: readonly ControlCommand[] = [
  'start',
  'stop',
  'restart',
  'pull',
  'down',
  'scale',
  'pause',
  'unpause',
];

/** One line of deployment output as it is streamed and stored. */
export interface LogLine {
  seq: number;
  ts: string;
  stream: 'stdout' | 'stderr' | 'system';
  text: string;
}
