export * from './args';
export * from './checks';
export * from './drift';
export * from './image-digests';
export * from './inline';
export * from './policy';
export * from './ps';
export * from './registry';
