export * from './references';
export * from './rules';
