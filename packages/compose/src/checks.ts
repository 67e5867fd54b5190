import { validation } from '@simpledeploy/core';
import { parseDocument } from 'yaml';

/** The document as plain data; a billion-laughs alias bomb is refused, not expanded. */
export function toJS(doc: ReturnType<typeof parseDocument>, field: string): unknown {
  try {
    return doc.toJS({ maxAliasCount: 100 }) as unknown;
  } catch {
    throw validation(`${field} uses too many YAML aliases (*name); write the values out`, {
      field,
    });
  }
}

/**
 * Early checks of an inline compose file, so an obviously broken file is refused at
 * create time with a line number rather than failing later in `docker compose config`.
 */
export function checkComposeYaml(text: string, field = 'compose'): Record<string, unknown> {
  if (text.includes('\0')) throw validation(`${field} must not contain NUL bytes`, { field });
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  const first = doc.errors[0];
  if (first) {
    const line = first.linePos?.[0]?.line;
    throw validation(
      `${field} is not valid YAML${line ? ` (line ${line})` : ''}: ${first.message.split('\n')[0]}`,
      { field, ...(line ? { line } : {}) },
    );
  }
  const value = toJS(doc, field);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw validation(`${field} must be a YAML mapping with a "services" key`, { field });
  }
  const services = (value as Record<string, unknown>).services;
  if (
    !services ||
    typeof services !== 'object' ||
    Array.isArray(services) ||
    Object.keys(services).length === 0
  ) {
    throw validation(`${field} must define at least one service under "services"`, { field });
  }
  return value as Record<string, unknown>;
}
