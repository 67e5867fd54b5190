import type { ComposeTarget } from '@simpledeploy/compose';
import type { DesiredState, RegistryCredential } from '@simpledeploy/core';
import { createSessionDir, materialize } from './workspace';

/**
 * Everything one run of `docker compose` over a version needs, set up the same way for
 * deploys, lifecycle commands, drift and the policy check: the version's files in a
 * directory, the registry logins in a private DOCKER_CONFIG, and the variables as an env
 * file. The CLI's process environment is the server's fixed one plus DOCKER_CONFIG:
 * `compose_variables` and `.env` only ever reach compose as interpolation input.
 */
export interface ComposeSession {
  /** Real path of the directory compose runs in (the stack's root for the policy). */
  dir: string;
  target: ComposeTarget;
  env: Record<string, string>;
  dispose(): Promise<void>;
}

export interface SessionOptions {
  dir: string;
  state: DesiredState;
  project: string;
  registries: RegistryCredential[];
  /** The server's fixed environment for the Docker CLI (PATH, HOME, DOCKER_HOST and TLS). */
  childEnv: Record<string, string>;
  /** Private directory (under the data dir) for session files. */
  runDir: string;
}

export async function openComposeSession(o: SessionOptions): Promise<ComposeSession> {
  const files = await materialize(o.dir, o.state);
  const session = await createSessionDir(o.runDir, o.registries, o.state.variables);
  return {
    dir: files.dir,
    target: {
      project: o.project,
      files: files.files,
      // Always explicit, so compose never reads a `.env` a container left in the directory.
      envFiles: [...(files.envFile ? [files.envFile] : []), session.variablesFile],
    },
    env: { ...o.childEnv, DOCKER_CONFIG: session.dir },
    dispose: session.dispose,
  };
}
