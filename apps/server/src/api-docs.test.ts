import { createApp } from '@simpledeploy/api';
import { testDeps } from '@simpledeploy/api/test-helpers';
import { describe, expect, it } from 'vitest';
import { swaggerUiAssets } from './api-docs';

describe('the API reference page', () => {
  it("serves swagger-ui-dist's files from this server, with nothing fetched from elsewhere", async () => {
    const app = createApp(testDeps({ docsAssets: swaggerUiAssets() }));
    const page = await (await app.request('/api/v1/docs')).text();
    for (const [file, type, marker] of [
      ['swagger-ui-bundle.js', /javascript/, 'SwaggerUIBundle'],
      ['swagger-ui.css', /text\/css/, '.swagger-ui'],
    ] as const) {
      expect(page).toContain(`docs/${file}`);
      const res = await app.request(`/api/v1/docs/${file}`);
      expect(res.status, file).toBe(200);
      expect(res.headers.get('content-type')).toMatch(type);
      const text = await res.text();
      expect(text).toContain(marker);
      // No stylesheet, font or script from a CDN.
      expect(text).not.toMatch(/@import\s+url\(|fonts\.googleapis|cdn\.jsdelivr|unpkg\.com/);
    }
  });
});
