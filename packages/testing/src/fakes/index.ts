export * from './clock';
export * from './compose-config';
export * from './runner';
