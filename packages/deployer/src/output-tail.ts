import type { Redact } from '@simpledeploy/core';

/**
 * The last non-empty lines of a command's stderr, redacted, as one line: compose puts the
 * reason for a failure there, so it makes the error message.
 */
export const stderrTail = (text: string, redact: Redact, lines = 3) =>
  redact(
    text
      .trim()
      .split('\n')
      .filter((l) => l.trim())
      .slice(-lines)
      .join(' | '),
  ).slice(0, 1000);
