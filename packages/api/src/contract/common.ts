import { z } from 'zod';

/** What a named schema is called in the OpenAPI document and what it is. */
export interface SchemaMeta {
  id: string;
  description?: string;
}

/**
 * Named request schemas (converted as input: what a client may send) and named response
 * schemas (converted as output: what the server sends) become `components.schemas`.
 */
export const requestSchemas = z.registry<SchemaMeta>();
export const responseSchemas = z.registry<SchemaMeta>();

export const named = {
  request<S extends z.ZodType>(id: string, schema: S, description?: string): S {
    requestSchemas.add(schema, { id, ...(description ? { description } : {}) });
    return schema;
  },
  response<S extends z.ZodType>(id: string, schema: S, description?: string): S {
    responseSchemas.add(schema, { id, ...(description ? { description } : {}) });
    return schema;
  },
};

/** An ISO-8601 UTC time, as every time in the API is sent. */
export const time = z.string().describe('ISO-8601 UTC time');
export const nullableTime = time.nullable();

export const ERROR_CODES = [
  'UNAUTHORIZED',
  'FORBIDDEN',
  'NOT_FOUND',
  'VALIDATION',
  'POLICY',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL',
] as const;

/** The body of every non-2xx JSON response (api.md "Error body"). */
export const ErrorBody = named.response(
  'ErrorBody',
  z.strictObject({
    error: z.strictObject({
      code: z.enum(ERROR_CODES),
      message: z.string().describe('a sentence a person can act on'),
      details: z
        .record(z.string(), z.unknown())
        .describe(
          'machine-readable context: `field` (the field at fault), `problems` (every problem, one sentence each), `violations` (a host policy refusal)…',
        ),
    }),
  }),
  'Every non-2xx JSON response has this shape.',
);

/**
 * A request body object that refuses fields it does not know, saying what it takes, and
 * a body that is not an object, with an example.
 */
export function strictBody<T extends z.core.$ZodLooseShape>(
  shape: T,
  takes: string,
  example: string,
) {
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys')
        return `unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: ${takes}`;
      if (issue.code === 'invalid_type') return `the body must be a JSON object like ${example}`;
      return undefined;
    },
  });
}
