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

/**
 * A compose service name as simpledeploy accepts it in a request (`service_filter`, a
 * control command's `services`): never an option (`--rm`), a path or a `name=value`.
 */
export const SERVICE_NAME_PATTERN = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/;

export const isServiceName = (name: unknown): name is string =>
  typeof name === 'string' && SERVICE_NAME_PATTERN.test(name);

export const MAX_REF_LENGTH = 255;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const REF_FORBIDDEN = /[\u0000-\u0020\u007f~^:?*[\\]/;

/**
 * Why `ref` is not a git branch, tag or commit name (git's check-ref-format rules, so
 * nothing odd reaches the wire protocol or argv), or undefined when it is one. Accepts
 * `refs/heads/x` style full names and commit shas.
 */
export function refNameProblem(ref: string): string | undefined {
  if (ref === '') return 'it is empty';
  if (ref.length > MAX_REF_LENGTH) return `longer than ${MAX_REF_LENGTH} characters`;
  if (REF_FORBIDDEN.test(ref))
    return 'spaces, control characters and ~ ^ : ? * [ \\ are not allowed';
  if (ref.startsWith('-')) return 'it must not start with -';
  if (ref === '@' || ref.includes('@{')) return '@ and @{ are not allowed';
  if (ref.includes('..')) return '.. is not allowed';
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//'))
    return 'it must not start or end with / or contain //';
  if (ref.endsWith('.')) return 'it must not end with .';
  for (const part of ref.split('/')) {
    if (part.startsWith('.')) return 'no part of it may start with .';
    if (part.endsWith('.lock')) return 'no part of it may end with .lock';
  }
  return undefined;
}

export const isRefName = (ref: unknown): ref is string =>
  typeof ref === 'string' && refNameProblem(ref) === undefined;

/**
 * Checks a branch, tag or commit name (`repo_branch`, a deploy's `ref`) with
 * refNameProblem, so a typo fails with a 400 that names the field.
 */
export function assertRefName(ref: unknown, field = 'repo_branch'): string {
  if (typeof ref !== 'string' || ref === '') {
    throw validation(`${field} must be a branch, tag or commit name`, { field });
  }
  const why = refNameProblem(ref);
  if (why) throw validation(`${field} is not a valid git branch or tag name: ${why}`, { field });
  return ref;
}
