export * from './args';
export * from './checks';
export * from './drift';
export * from './host-paths';
export * from './ps';
