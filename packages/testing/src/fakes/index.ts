export * from './clock';
export * from './runner';
