import type { LogFields, Logger } from '@simpledeploy/core';
import type { AppDeps } from './deps';
import { testDomain } from './test-domain';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  msg: string;
  fields: LogFields;
}

/** A Logger that keeps what it is given, for assertions. */
export function recordingLogger(
  entries: LogEntry[] = [],
  base: LogFields = {},
): Logger & {
  entries: LogEntry[];
} {
  const at =
    (level: LogEntry['level']) =>
    (msg: string, fields: LogFields = {}) =>
      entries.push({ level, msg, fields: { ...base, ...fields } });
  return {
    entries,
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    child: (fields) => recordingLogger(entries, { ...base, ...fields }),
  };
}

export const TEST_KEY = 'test-api-key-0123456789';

/** Deps where everything is healthy; override what a test needs. */
export function testDeps(overrides: Partial<AppDeps> = {}): AppDeps {
  return {
    apiKey: TEST_KEY,
    logger: recordingLogger(),
    version: '0.0.0-test',
    health: {
      database: async () => ({ ok: true }),
      docker: async () => ({ ok: true, version: '20.10.24' }),
      compose: async () => ({ ok: true, version: '2.26.1' }),
    },
    ...overrides,
    domain: overrides.domain ?? testDomain(),
  };
}

/** Test-side view of a JSON response body: assertions check its shape. */
// biome-ignore lint/suspicious/noExplicitAny: tests read arbitrary JSON and assert on it
export type Json = any;
export const json = async (res: Response): Promise<Json> => res.json();
