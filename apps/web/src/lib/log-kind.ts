/**
 * How a deployment log line reads to a person. docker compose writes all its progress
 * (`Container web-1  Started`, `app Pulling`, build steps) to stderr, so the stream alone
 * says nothing: only a stderr line that reads as a failure is shown as an error.
 */
export type LogKind = 'out' | 'progress' | 'error' | 'system';

const FAILURE =
  /\b(error|failed|failure|denied|unauthorized|forbidden|unhealthy|conflict|panic|fatal|cannot|can't|no such|not found|invalid|refused|timed? ?out)\b/i;

export function logKind(line: { stream: string; text: string }): LogKind {
  if (line.stream === 'system') return 'system';
  if (line.stream !== 'stderr') return 'out';
  return FAILURE.test(line.text) ? 'error' : 'progress';
}

/** The short label beside a line. */
export const KIND_LABEL: Record<LogKind, string> = {
  out: 'out',
  progress: 'log',
  error: 'err',
  system: 'sys',
};
