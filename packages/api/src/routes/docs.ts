import { AppError } from '@simpledeploy/core';
import { type Context, Hono } from 'hono';
import type { AppEnv, DocsAssets } from '../deps';
import { describeRoute, openApiDocument } from '../openapi';

/** The files of swagger-ui-dist the reference page loads, served from this server. */
export const DOCS_ASSETS = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
} as const;
export type DocsAsset = keyof typeof DOCS_ASSETS;

/** The two documentation routes are open: they show the published contract, no stack. */
export const isDocsRoute = (c: Context) =>
  c.req.method === 'GET' && /^\/api\/v1\/(openapi\.json|docs(\/[^/]+)?)$/.test(c.req.path);

// Relative URLs, so the page works behind a proxy that mounts the server under a prefix.
const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>simpledeploy API reference</title>
<link rel="stylesheet" href="docs/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="docs/swagger-ui-bundle.js"></script>
<script src="docs/init.js"></script>
</body>
</html>
`;

// No validator badge (it would call out to a public service): everything stays on this server.
const INIT = `window.ui = SwaggerUIBundle({
  url: 'openapi.json',
  dom_id: '#reference',
  deepLinking: true,
  validatorUrl: null,
  tryItOutEnabled: false,
});
`;

/**
 * `GET /api/v1/openapi.json`, the OpenAPI 3.1 document generated from the app's routes,
 * and `GET /api/v1/docs`, an interactive reference (Swagger UI, served from this server).
 */
// biome-ignore lint/suspicious/noExplicitAny: the whole app, whatever its schema
export function docsRoutes(app: () => Hono<any, any, any>, version: string, assets?: DocsAssets) {
  let document: unknown;
  return new Hono<AppEnv>()
    .get(
      '/api/v1/openapi.json',
      describeRoute({
        id: 'getOpenApiDocument',
        summary: 'This document',
        tag: 'documentation',
        auth: 'open',
        responses: { 200: { description: 'the OpenAPI 3.1 document', type: 'application/json' } },
      }),
      (c) => {
        document ??= openApiDocument(app(), version);
        return c.json(document as Record<string, unknown>);
      },
    )
    .get(
      '/api/v1/docs',
      describeRoute({
        id: 'getApiReference',
        summary: 'The interactive API reference (Swagger UI)',
        tag: 'documentation',
        auth: 'open',
        responses: { 200: { description: 'an HTML page', type: 'text/html' } },
      }),
      (c) => c.html(PAGE),
    )
    .get(
      '/api/v1/docs/:file',
      describeRoute({
        id: 'getApiReferenceAsset',
        summary: "A file of the reference page (swagger-ui-dist's, served locally)",
        tag: 'documentation',
        auth: 'open',
        responses: { 200: { description: 'CSS or JavaScript', type: 'text/javascript' } },
        errors: [503],
      }),
      async (c) => {
        const file = c.req.param('file');
        if (file === 'init.js')
          return c.body(INIT, 200, { 'Content-Type': 'text/javascript; charset=utf-8' });
        if (!(file in DOCS_ASSETS)) throw new AppError('NOT_FOUND', `no file ${file} here`);
        const body = assets ? await assets(file as DocsAsset) : undefined;
        if (body === undefined)
          throw new AppError(
            'UNAVAILABLE',
            'the API reference page is not installed on this server; GET /api/v1/openapi.json has the document',
          );
        return c.body(body as Uint8Array<ArrayBuffer>, 200, {
          'Content-Type': DOCS_ASSETS[file as DocsAsset],
          'Cache-Control': 'public, max-age=86400',
        });
      },
    );
}
