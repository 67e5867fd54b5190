export * from './client';
export * from './digest-cache';
export * from './reference';
