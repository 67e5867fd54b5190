export * from './drift';
export * from './legacy';
export * from './reconciler';
export * from './webhook-parse';
export * from './webhook-verify';
export * from './webhooks';
