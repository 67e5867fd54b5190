import { compileErrors, validate } from '@readme/openapi-parser';
import { Ajv2020 } from 'ajv/dist/2020.js';
import type { OpenAPIV3_1 } from 'openapi-types';
import { describe, expect, it } from 'vitest';
import { createApp } from './app';
import type { AppDeps } from './deps';
import { routesOf, toOpenApiPath } from './openapi';
import { testDomain, testGitops } from './test-domain';
import { json, testDeps } from './test-helpers';

function setup(docsAssets?: AppDeps['docsAssets']) {
  const domain = testDomain();
  return createApp(testDeps({ domain: { ...domain, gitops: testGitops(domain) }, docsAssets }));
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'] as const;

describe('the OpenAPI document', () => {
  it('is served without a key at GET /api/v1/openapi.json and covers every route of the router', async () => {
    const app = setup();
    const res = await app.request('/api/v1/openapi.json');
    expect(res.status).toBe(200);
    const doc = (await res.json()) as OpenAPIV3_1.Document;
    expect(doc.openapi).toBe('3.1.0');

    const routes = routesOf(app);
    expect(routes.length).toBeGreaterThan(40);
    for (const r of routes) {
      const op = doc.paths?.[toOpenApiPath(r.path)]?.[r.method.toLowerCase() as 'get'];
      expect(op, `${r.method} ${r.path}`).toBeDefined();
      expect(op?.summary, `${r.method} ${r.path}`).toBeTruthy();
      expect(op, `${r.method} ${r.path} has no describeRoute()`).not.toHaveProperty(
        'x-undocumented',
      );
    }
    // And nothing in it that the router does not answer.
    const answered = new Set(routes.map((r) => `${r.method} ${toOpenApiPath(r.path)}`));
    for (const [path, item] of Object.entries(doc.paths ?? {}))
      for (const m of METHODS)
        if (item?.[m]) expect(answered, `${m} ${path}`).toContain(`${m.toUpperCase()} ${path}`);
  });

  it('is a valid OpenAPI 3.1 document (@readme/openapi-parser), every $ref resolving', async () => {
    const doc = await json(await setup().request('/api/v1/openapi.json'));
    const result = await validate(structuredClone(doc));
    expect(result.valid, result.valid ? '' : compileErrors(result)).toBe(true);
    expect(result.specification).toBe('OpenAPI');
    // The parser checks the document's structure; each schema is checked against JSON
    // Schema 2020-12 (OpenAPI 3.1's dialect) here.
    const ajv = new Ajv2020({ strict: false });
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(ajv.validateSchema(schema as object), `${name}: ${ajv.errorsText()}`).toBe(true);
    }
  });

  it('documents request bodies, query parameters and responses from the contract schemas', async () => {
    const doc = (await json(await setup().request('/api/v1/openapi.json'))) as OpenAPIV3_1.Document;
    const deploy = doc.paths?.['/api/v1/stacks/{stack}/deploy']?.post;
    expect(deploy?.requestBody).toMatchObject({
      required: false,
      content: { 'application/json': { schema: { $ref: '#/components/schemas/DeployBody' } } },
    });
    expect(deploy?.parameters).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: 'stack', in: 'path', required: true }),
        expect.objectContaining({ name: 'wait', in: 'query', required: false }),
      ]),
    );
    expect(Object.keys(deploy?.responses ?? {})).toEqual(
      expect.arrayContaining(['200', '202', '400', '401', '404', '413', '422']),
    );
    const create = doc.paths?.['/api/v1/stacks']?.post;
    expect(create?.requestBody).toMatchObject({ required: true });
    const schemas = doc.components?.schemas ?? {};
    expect(Object.keys(schemas)).toEqual(
      expect.arrayContaining(['Stack', 'StackInput', 'Deployment', 'Drift', 'ErrorBody']),
    );
    expect(schemas.Stack?.required).toEqual(expect.arrayContaining(['id', 'name', 'status']));
    // Health and the webhooks need no key; the rest does.
    expect(doc.paths?.['/health']?.get?.security).toEqual([]);
    expect(doc.paths?.['/api/v1/stacks']?.get?.security).toBeUndefined();
    expect(doc.security).toEqual([{ apiKey: [] }, { bearer: [] }]);
  });
});

describe('the API reference page', () => {
  const assets = async (name: string) => `/* ${name} */`;

  it('is served without a key, with its assets from this server only', async () => {
    const app = setup(assets);
    const page = await app.request('/api/v1/docs');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    const html = await page.text();
    expect(html).not.toMatch(/https?:\/\//);
    const srcs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
    expect(srcs).toEqual(['docs/swagger-ui.css', 'docs/swagger-ui-bundle.js', 'docs/init.js']);
    for (const src of srcs) {
      const res = await app.request(`/api/v1/${src}`);
      expect(res.status, src).toBe(200);
    }
    const init = await (await app.request('/api/v1/docs/init.js')).text();
    expect(init).toContain("url: 'openapi.json'");
    expect(init).toContain('validatorUrl: null');
  });

  it('says the page is not installed when the server has no assets, and serves no other file', async () => {
    const app = setup();
    const res = await app.request('/api/v1/docs/swagger-ui-bundle.js');
    expect(res.status).toBe(503);
    expect((await json(res)).error.message).toMatch(/openapi\.json has the document/);
    const other = await setup(assets).request('/api/v1/docs/index.html');
    expect(other.status).toBe(404);
    const traversal = await setup(assets).request('/api/v1/docs/..%2Fpackage.json');
    expect(traversal.status).toBe(404);
  });
});
