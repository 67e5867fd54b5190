export * from './args';
export * from './checks';
export * from './drift';
export * from './inline';
export * from './policy';
export * from './ps';
export * from './registry';
export * from './image-digests';
