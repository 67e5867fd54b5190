import { validation } from '@simpledeploy/core';
import type { Context, MiddlewareHandler } from 'hono';
import { validator } from 'hono/validator';
import type { z } from 'zod';
import type { AppEnv } from './deps';

/** What a validator middleware says about its input, read by the OpenAPI document (openapi.ts). */
export interface InputDoc {
  target: 'json' | 'query';
  schema: z.ZodType;
  /** A body that may be empty (read as `{}`). */
  optional?: boolean;
}

export const INPUT_DOC = Symbol('simpledeploy.input');

const article = (word: string) => (/^[aeiou]/.test(word) ? 'an' : 'a');
const expectedNames: Record<string, string> = {
  array: 'a list',
  record: 'an object',
  object: 'an object',
  int: 'a whole number',
};

/**
 * The house sentence for an issue whose schema has no message of its own: it names the
 * field and what to send instead (the stack body's formatter in deployer/stack-input.ts
 * reads the same way).
 */
function houseMessage(issue: z.core.$ZodRawIssue): string {
  const field = (issue.path ?? []).map(String).join('.') || 'the body';
  switch (issue.code) {
    case 'invalid_type': {
      const e = String(issue.expected);
      return `${field} must be ${expectedNames[e] ?? `${article(e)} ${e}`}`;
    }
    case 'too_big':
      return `${field} is too large (at most ${String(issue.maximum)})`;
    case 'too_small':
      return `${field} is too small (at least ${String(issue.minimum)})`;
    case 'invalid_value':
      return `${field} must be one of ${issue.values.map((v) => String(v)).join(', ')}`;
    case 'unrecognized_keys':
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}`;
    default:
      return `${field} is not valid`;
  }
}

/**
 * Parses `value` with a contract schema; on failure a `400 VALIDATION` whose message
 * lists every problem (each a sentence naming its field) and whose details carry them
 * as `problems`, with `field` when they all concern one field.
 */
export function parseWith<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const res = schema.safeParse(value, { error: houseMessage });
  if (res.success) return res.data;
  const problems = res.error.issues.map((i) => i.message);
  const fields = new Set(res.error.issues.map((i) => i.path[0]).filter((p) => p !== undefined));
  const [only] = fields;
  throw validation(problems.join('; '), {
    ...(fields.size === 1 && typeof only === 'string' ? { field: only } : {}),
    problems,
  });
}

/** The body as JSON, whatever its content type says (curl -d sends form encoding). */
async function readBody(c: Context, optional: boolean): Promise<unknown> {
  const text = await c.req.text();
  if (optional && !text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw validation('the request body is not valid JSON');
  }
}

type Middleware<In, Out, Target extends string> = MiddlewareHandler<
  AppEnv,
  string,
  { in: { [K in Target]: In }; out: { [K in Target]: Out } }
>;

/**
 * Validates a JSON body against a contract schema; the handler reads the result with
 * `c.req.valid('json')`. Unlike hono's json validator, a body is read whatever its
 * Content-Type says, so `curl -d '{"ref":"v2"}'` is not silently ignored. `parse`
 * replaces the schema's parse where the domain owns the rules and their messages (the
 * stack body); the schema then documents what it checks.
 */
export function jsonBody<S extends z.ZodType, O extends object = z.output<S> & object>(
  schema: S,
  opts: { optional?: boolean; parse?: (value: unknown) => O } = {},
): Middleware<z.input<S>, O, 'json'> {
  const parse = opts.parse ?? ((v: unknown) => parseWith(schema, v) as O);
  const mw: MiddlewareHandler<AppEnv> = async (c, next) => {
    c.req.addValidatedData('json', parse(await readBody(c, opts.optional ?? false)));
    await next();
  };
  const doc: InputDoc = { target: 'json', schema, optional: opts.optional ?? false };
  return Object.assign(mw, { [INPUT_DOC]: doc }) as Middleware<z.input<S>, O, 'json'>;
}

/** Validates the query string against a contract schema (`c.req.valid('query')`). */
export function query<S extends z.ZodType>(
  schema: S,
): Middleware<z.input<S>, z.output<S> & object, 'query'> {
  const mw = validator('query', (value) => parseWith(schema, value) as object);
  const doc: InputDoc = { target: 'query', schema };
  return Object.assign(mw, { [INPUT_DOC]: doc }) as unknown as Middleware<
    z.input<S>,
    z.output<S> & object,
    'query'
  >;
}
