import type { Hono, MiddlewareHandler } from 'hono';
import { findTargetHandler } from 'hono/utils/handler';
import { z } from 'zod';
import { ACCESS } from './access';
import { requestSchemas, responseSchemas } from './contract/common';
import { INPUT_DOC, type InputDoc } from './validate';

/** A response that is not a JSON body: a stream, a page, plain text, nothing. */
export interface OtherResponse {
  description: string;
  /** Media type of the body; none for 101/204. */
  type?: string;
  /** For JSON-per-message streams: the schema of one message. */
  schema?: z.ZodType;
}

/** What one route is, for the OpenAPI document: next to the route, so they cannot part. */
export interface RouteDoc {
  /** operationId */
  id: string;
  summary: string;
  description?: string;
  tag: string;
  /** Success (and documented non-error) responses: a JSON schema, or another kind of body. */
  responses: Record<number, z.ZodType | OtherResponse>;
  /** Error statuses this route can answer beyond 400 (input), 401 (key) and 404 (path id). */
  errors?: number[];
  /** Server-Sent Events the 200 answer can be instead of JSON (`?follow=true`): one message's schema. */
  stream?: z.ZodType;
  /** `open`: no API key; `signed`: a webhook signature or the API key. */
  auth?: 'key' | 'open' | 'signed';
}

export const ROUTE_DOC = Symbol('simpledeploy.route');

/** Marks a route with its documentation; does nothing at request time. */
export function describeRoute(doc: RouteDoc): MiddlewareHandler {
  const mw: MiddlewareHandler = (_c, next) => next();
  return Object.assign(mw, { [ROUTE_DOC]: doc });
}

type Marked = { [ROUTE_DOC]?: RouteDoc; [INPUT_DOC]?: InputDoc };

/** A route of the app with what its middleware says about it. */
export interface RouteInfo {
  method: string;
  /** Hono's path, `:param` style. */
  path: string;
  doc?: RouteDoc;
  inputs: InputDoc[];
}

/** Every (method, path) the app answers, from `app.routes`, with its documentation. */
// biome-ignore lint/suspicious/noExplicitAny: any Hono app, whatever its env and schema
export function routesOf(app: Hono<any, any, any>): RouteInfo[] {
  const byKey = new Map<string, RouteInfo>();
  for (const r of app.routes) {
    if (r.method === 'ALL') continue; // app.use(): middleware, not a route
    const key = `${r.method} ${r.path}`;
    let info = byKey.get(key);
    if (!info) {
      info = { method: r.method, path: r.path, inputs: [] };
      byKey.set(key, info);
    }
    const h = findTargetHandler(r.handler) as Marked;
    if (h[ROUTE_DOC]) info.doc = h[ROUTE_DOC];
    if (h[INPUT_DOC]) info.inputs.push(h[INPUT_DOC]);
  }
  return [...byKey.values()];
}

export const toOpenApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');

const PATH_PARAMS: Record<string, string> = {
  stack: "the stack's id, uuid or name",
  id: 'the id',
  uuid: "the stack's uuid, id or name",
  notifier: "the notifier's id or name",
};

const ERRORS: Record<number, [name: string, description: string]> = {
  400: ['BadRequest', 'VALIDATION: the input is not valid; the message says what to fix'],
  401: ['Unauthorized', 'UNAUTHORIZED: a valid API key is required'],
  403: ['Forbidden', "FORBIDDEN: the key's role or stacks do not allow this (access.ts)"],
  404: ['NotFound', 'NOT_FOUND: no such stack, deployment, version or route'],
  409: ['Conflict', 'CONFLICT: the request does not fit the current state'],
  413: ['PayloadTooLarge', 'PAYLOAD_TOO_LARGE: the body is over the limit (1 MiB by default)'],
  422: ['Unprocessable', 'POLICY: the host policy refuses the stack (details.violations)'],
  429: ['RateLimited', 'RATE_LIMITED: too many failed authentications; see Retry-After'],
  503: ['Unavailable', 'UNAVAILABLE: a dependency is down or the server is busy; retry later'],
};

type Json = Record<string, unknown>;

/** zod's JSON Schema (draft 2020-12, OpenAPI 3.1's dialect) without the per-schema `$schema` and `$id`. */
function clean(schema: Json): Json {
  const { $schema: _, $id: __, id: ___, ...rest } = schema;
  return rest;
}

function schemaRef(schema: z.ZodType, io: 'input' | 'output'): Json {
  const registry = io === 'input' ? requestSchemas : responseSchemas;
  const id = registry.get(schema)?.id;
  if (id) return { $ref: `#/components/schemas/${id}` };
  // Named schemas inside come out as $defs: point them at components.schemas instead.
  const { $defs: _, ...inline } = clean(
    z.toJSONSchema(schema, { io, unrepresentable: 'any', metadata: registry }) as Json,
  );
  return JSON.parse(JSON.stringify(inline).replaceAll('"#/$defs/', '"#/components/schemas/'));
}

function components(): Json {
  const out: Json = {};
  for (const [registry, io] of [
    [requestSchemas, 'input'],
    [responseSchemas, 'output'],
  ] as const) {
    const { schemas } = z.toJSONSchema(registry, {
      io,
      unrepresentable: 'any',
      uri: (id) => `#/components/schemas/${id}`,
    });
    for (const [id, s] of Object.entries(schemas)) {
      if (id in out) throw new Error(`two contract schemas are named ${id}`);
      out[id] = clean(s as Json);
    }
  }
  return out;
}

function queryParameters(schema: z.ZodType): Json[] {
  if (!(schema instanceof z.ZodObject)) return [];
  return Object.entries(schema.shape as Record<string, z.ZodType>).map(([name, prop]) => {
    const s = clean(z.toJSONSchema(prop, { io: 'input', unrepresentable: 'any' }) as Json);
    const { description, ...rest } = s;
    return {
      name,
      in: 'query',
      required: !prop.safeParse(undefined).success,
      ...(description ? { description } : {}),
      schema: rest,
    };
  });
}

const pathParameters = (path: string): Json[] =>
  [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map(([, name = '']) => ({
    name,
    in: 'path',
    required: true,
    description: PATH_PARAMS[name] ?? name,
    schema: { type: 'string' },
  }));

function operation(route: RouteInfo, doc: RouteDoc): Json {
  const body = route.inputs.find((i) => i.target === 'json');
  const queries = route.inputs.filter((i) => i.target === 'query');
  const responses: Json = {};
  for (const [status, r] of Object.entries(doc.responses)) {
    if (r instanceof z.ZodType) {
      responses[status] = {
        description: responseSchemas.get(r)?.description ?? 'OK',
        content: { 'application/json': { schema: schemaRef(r, 'output') } },
      };
    } else {
      responses[status] = {
        description: r.description,
        ...(r.type
          ? {
              content: {
                [r.type]: r.schema ? { schema: schemaRef(r.schema, 'output') } : {},
              },
            }
          : {}),
      };
    }
  }
  const ok = responses['200'] as { content?: Json } | undefined;
  if (doc.stream && ok?.content)
    ok.content['text/event-stream'] = { schema: schemaRef(doc.stream, 'output') };
  const errors = new Set(doc.errors ?? []);
  if (route.inputs.length) errors.add(400);
  if (doc.auth !== 'open') errors.add(401);
  // The role each route needs comes from the access table, the one place it is decided.
  const need = ACCESS.find((a) => a.method === route.method && a.path === route.path)?.need;
  if (need === 'viewer' || need === 'deployer' || need === 'admin') errors.add(403);
  if (route.path.includes(':')) errors.add(404);
  if (body) errors.add(413);
  for (const status of [...errors].sort()) {
    if (String(status) in responses) continue;
    const [name] = ERRORS[status] ?? ['Error'];
    responses[status] = { $ref: `#/components/responses/${name}` };
  }
  return {
    operationId: doc.id,
    summary: doc.summary,
    ...(doc.description ? { description: doc.description } : {}),
    tags: [doc.tag],
    ...(need ? { 'x-simpledeploy-access': need } : {}),
    ...(doc.auth === 'open' ? { security: [] } : {}),
    ...(doc.auth === 'signed'
      ? {
          security: [{ apiKey: [] }, { bearer: [] }, {}],
          description: `${doc.description ? `${doc.description}\n\n` : ''}Authenticated by a webhook signature (X-Hub-Signature-256, X-Gitea-Signature, X-Gogs-Signature, X-Gitlab-Token or the stack's own header) or the API key.`,
        }
      : {}),
    parameters: [
      ...pathParameters(route.path),
      ...queries.flatMap((q) => queryParameters(q.schema)),
    ],
    ...(body
      ? {
          requestBody: {
            required: !body.optional,
            content: { 'application/json': { schema: schemaRef(body.schema, 'input') } },
          },
        }
      : {}),
    responses,
  };
}

/**
 * The OpenAPI 3.1 document of the app, generated from its routes (`app.routes`), the
 * contract schemas their validators use, and each route's describeRoute(). A route
 * without describeRoute() still appears, marked `x-undocumented` (openapi.test.ts
 * fails on it), so the document always covers the whole router.
 */
// biome-ignore lint/suspicious/noExplicitAny: any Hono app, whatever its env and schema
export function openApiDocument(app: Hono<any, any, any>, version: string): Json {
  const paths: Record<string, Json> = {};
  for (const route of routesOf(app)) {
    const path = toOpenApiPath(route.path);
    paths[path] ??= {};
    (paths[path] as Json)[route.method.toLowerCase()] = route.doc
      ? operation(route, route.doc)
      : {
          'x-undocumented': true,
          summary: `${route.method} ${path}`,
          parameters: pathParameters(route.path),
          responses: { default: { description: 'not documented yet' } },
        };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'simpledeploy',
      version,
      description:
        'A self-hosted GitOps deployer for Docker Compose. Field names are snake_case, times ISO-8601 UTC, ids opaque strings. Every non-2xx JSON response carries the error body.',
    },
    security: [{ apiKey: [] }, { bearer: [] }],
    paths,
    components: {
      securitySchemes: {
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-KEY' },
        bearer: { type: 'http', scheme: 'bearer', description: 'the API key as a bearer token' },
      },
      schemas: components(),
      responses: Object.fromEntries(
        Object.values(ERRORS).map(([name, description]) => [
          name,
          {
            description,
            content: { 'application/json': { schema: { $ref: '#/components/schemas/ErrorBody' } } },
          },
        ]),
      ),
    },
  };
}
