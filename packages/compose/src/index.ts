export * from './args';
export * from './ps';
