export * from './client';
export * from './errors';
export * from './limits';
export * from './paths';
export * from './refs';
export * from './source';
export * from './url';
