import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { describe, expect, it } from 'vitest';
import { findWebDir, mountWebUi } from './web-ui';

function webBuild() {
  const dir = mkdtempSync(join(tmpdir(), 'sd-web-'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>simpledeploy</title>');
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'assets', 'app.js'), 'console.log(1)');
  return dir;
}

describe('the web UI', () => {
  it('is served at / after the API routes, which keep answering', async () => {
    const dir = webBuild();
    const app = new Hono().get('/api/v1/ping', (c) => c.json({ ok: true }));
    mountWebUi(app, dir);
    const index = await app.request('/');
    expect(index.status).toBe(200);
    expect(await index.text()).toContain('<title>simpledeploy</title>');
    expect((await app.request('/assets/app.js')).headers.get('content-type')).toContain(
      'javascript',
    );
    expect(await (await app.request('/api/v1/ping')).json()).toEqual({ ok: true });
    expect((await app.request('/../secret')).status).toBe(404);
  });

  it('uses the configured dir only when it holds a build', () => {
    const dir = webBuild();
    expect(findWebDir(dir)).toBe(dir);
    expect(findWebDir(join(dir, 'assets'))).toBeUndefined();
  });
});
