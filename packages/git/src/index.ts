export * from './client';
export * from './errors';
export * from './paths';
export * from './refs';
export * from './source';
export * from './url';
