import { validation } from '@simpledeploy/core';

const MAX_REF_LENGTH = 255;
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching them is the point
const FORBIDDEN = /[\u0000-\u0020\u007f~^:?*[\\]/;

/**
 * Checks a branch, tag or commit name (`repo_branch`, a deploy's `ref`) against git's
 * ref-name rules (check-ref-format), so that a typo fails at create time with a 400 and
 * nothing odd reaches the wire protocol. Accepts `refs/heads/x` style full names too.
 */
export function assertRefName(ref: unknown, field = 'repo_branch'): string {
  if (typeof ref !== 'string' || ref === '') {
    throw validation(`${field} must be a branch, tag or commit name`, { field });
  }
  const invalid = (why: string) =>
    validation(`${field} is not a valid git branch or tag name: ${why}`, { field });
  if (ref.length > MAX_REF_LENGTH) throw invalid(`longer than ${MAX_REF_LENGTH} characters`);
  if (FORBIDDEN.test(ref)) {
    throw invalid('spaces, control characters and ~ ^ : ? * [ \\ are not allowed');
  }
  if (ref.startsWith('-')) throw invalid('it must not start with -');
  if (ref === '@' || ref.includes('@{')) throw invalid('@ and @{ are not allowed');
  if (ref.includes('..')) throw invalid('.. is not allowed');
  if (ref.startsWith('/') || ref.endsWith('/') || ref.includes('//')) {
    throw invalid('it must not start or end with / or contain //');
  }
  if (ref.endsWith('.')) throw invalid('it must not end with .');
  for (const part of ref.split('/')) {
    if (part.startsWith('.')) throw invalid('no part of it may start with .');
    if (part.endsWith('.lock')) throw invalid('no part of it may end with .lock');
  }
  return ref;
}
