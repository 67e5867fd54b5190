import type { DesiredState } from '@simpledeploy/core';
import type { StackRow } from '@simpledeploy/db';
import type { StackSecrets } from './stack-secrets';

export interface ResolveOptions {
  /** Branch, tag or commit asked for by the trigger; the stack's branch otherwise. */
  ref?: string | undefined;
  signal: AbortSignal;
  /** Progress lines for the deployment log (redacted by the caller). */
  log: (text: string) => void;
  /** A directory the resolver may keep between deploys (the stack's clone). */
  cacheDir: string;
}

/** Turns a stack's source (inline YAML, a git branch) into the desired state to deploy. */
export interface SourceResolver {
  resolve(
    stack: StackRow,
    secrets: StackSecrets,
    opts: ResolveOptions,
  ): Promise<{ state: DesiredState; commit?: string | undefined }>;
}

/** The inline source: the compose YAML stored on the stack. */
export function inlineState(stack: StackRow): DesiredState {
  return {
    files: { 'compose.yaml': stack.compose ?? '' },
    composeFiles: ['compose.yaml'],
    variables: stack.composeVariables,
    services: stack.serviceFilter,
  };
}

/** Picks the resolver by the stack's kind; git is optional so inline-only setups need no git client. */
export function createSourceResolver(git?: SourceResolver): SourceResolver {
  return {
    async resolve(stack, secrets, opts) {
      if (!stack.repoUrl) return { state: inlineState(stack) };
      if (!git) throw new Error('this server was built without git support');
      return git.resolve(stack, secrets, opts);
    },
  };
}
