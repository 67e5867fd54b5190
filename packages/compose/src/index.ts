export * from './args';
export * from './checks';
export * from './ps';
