import { join } from 'node:path';
import { notFound, projectName } from '@simpledeploy/core';
import {
  type Db,
  type DeploymentRow,
  findStack,
  findStackAccessRow,
  getDeployment,
  type StackAccessRow,
  type StackRow,
} from '@simpledeploy/db';

/** Finds stacks and deployments, and says where a stack lives: its project and directories. */
export interface StackLocator {
  requireStack(idOrName: string): StackRow;
  /** The columns a request's access check and a git host's push read, by id, name or uuid. */
  findStackAccess(idOrName: string): StackAccessRow | undefined;
  requireDeployment(id: string): DeploymentRow;
  /** The compose project name of a stack (`<prefix>-<name>`). */
  projectOf(stack: Pick<StackRow, 'name'>): string;
  /** The stack's working directory under the data dir. */
  stackDir(stackId: string): string;
  /** Private session files (DOCKER_CONFIG, variables); cleared at start-up. */
  runDir: string;
  projectPrefix: string;
}

export function createStackLocator(
  db: Db,
  config: { dataDir: string; projectPrefix: string },
): StackLocator {
  return {
    requireStack(idOrName) {
      const s = findStack(db, idOrName);
      if (!s) throw notFound('stack', idOrName);
      return s;
    },
    findStackAccess: (idOrName) => findStackAccessRow(db, idOrName),
    requireDeployment(id) {
      const d = getDeployment(db, id);
      if (!d) throw notFound('deployment', id);
      return d;
    },
    projectOf: (stack) => projectName(config.projectPrefix, stack.name),
    stackDir: (stackId) => join(config.dataDir, 'stacks', stackId),
    runDir: join(config.dataDir, 'run'),
    projectPrefix: config.projectPrefix,
  };
}
