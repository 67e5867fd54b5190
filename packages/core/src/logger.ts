import type { LogFields, Logger } from './ports';
import type { Redact } from './redact';

type Level = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  level?: Level;
  redact: Redact;
  write: (line: string) => void;
  now?: () => Date;
}

/** One JSON object per line; the whole line passes through the redactor. */
export function createJsonLogger(opts: JsonLoggerOptions, base: LogFields = {}): Logger {
  const min = ORDER[opts.level ?? 'info'];
  const now = opts.now ?? (() => new Date());
  const emit = (level: Level, msg: string, fields?: LogFields) => {
    if (ORDER[level] < min) return;
    const record = { ts: now().toISOString(), level, msg, ...base, ...fields };
    opts.write(opts.redact(JSON.stringify(record, errorReplacer)));
  };
  return {
    debug: (m, f) => emit('debug', m, f),
    info: (m, f) => emit('info', m, f),
    warn: (m, f) => emit('warn', m, f),
    error: (m, f) => emit('error', m, f),
    child: (fields) => createJsonLogger(opts, { ...base, ...fields }),
  };
}

function errorReplacer(_key: string, value: unknown) {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child: () => silentLogger,
};
