export * from './client';
export * from './repos/deployments';
export * from './repos/events';
export * from './repos/secrets';
export * from './repos/stacks';
export * from './repos/versions';
export * from './repos/webhook-deliveries';
export * from './schema';
