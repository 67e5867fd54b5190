export * from './api-keys';
export * from './audit-log';
export * from './deployments';
export * from './events';
export * from './stacks';
export * from './versions';
export * from './webhook-deliveries';
