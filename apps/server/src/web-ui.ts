import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serveStatic } from '@hono/node-server/serve-static';
import type { Env, Hono } from 'hono';

/** Where the web UI's build is: the configured dir, else next to the server in the repo. */
export function findWebDir(configured: string | undefined): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = configured
    ? [configured]
    : [
        resolve(here, '../../web/dist'),
        resolve(here, '../../../apps/web/dist'),
        resolve(process.cwd(), 'apps/web/dist'),
      ];
  return candidates.find((d) => existsSync(join(d, 'index.html')));
}

/**
 * Serves the UI's static files at `/` after every API route, so an unknown `/api/...`
 * path still gets the JSON 404. The UI routes by hash, so no index fallback is needed.
 */
export function mountWebUi<E extends Env>(app: Hono<E>, dir: string): void {
  app.get('/*', serveStatic<E>({ root: dir }));
}
