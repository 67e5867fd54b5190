import type {} from 'vitest';
import type { SimpledeployProvidedContext } from './context.js';

// Types inject('registry'), inject('images'), … in every test that sees this file
// (it is referenced from index.ts, so importing @simpledeploy/testing is enough).
declare module 'vitest' {
  export interface ProvidedContext extends SimpledeployProvidedContext {}
}
