import { validation } from './errors';

export const STACK_NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function assertStackName(name: unknown): string {
  if (typeof name !== 'string' || !STACK_NAME_PATTERN.test(name)) {
    throw validation(
      'name must be 1-63 characters of lowercase letters, digits, "-" or "_", starting with a letter or digit',
      { field: 'name' },
    );
  }
  return name;
}

/** The compose project a stack runs as. */
export const projectName = (prefix: string, stackName: string) => `${prefix}-${stackName}`;
