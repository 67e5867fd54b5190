export * from './api-keys';
export * from './audit-log';
export * from './command-history';
export * from './deployments';
export * from './hosts';
export * from './stacks';
export * from './versions';
export * from './webhook-deliveries';
