export * from './drift';
export * from './image-updates';
export * from './legacy';
export * from './reconciler';
export * from './update-scheduler';
export * from './webhook-parse';
export * from './webhook-verify';
export * from './webhooks';
