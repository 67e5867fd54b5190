import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { DocsAssets } from '@simpledeploy/api';

/**
 * Swagger UI's files for `GET /api/v1/docs`, read from the swagger-ui-dist package (a
 * dependency of this app, so the bundled server finds it in node_modules): the reference
 * page loads nothing from outside. Each file is read once; undefined when the package is
 * missing, and the page then says so.
 */
export function swaggerUiAssets(): DocsAssets {
  let dir: string | undefined;
  try {
    dir = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  } catch {
    dir = undefined;
  }
  const cache = new Map<string, Promise<Uint8Array | undefined>>();
  return (name) => {
    if (!dir) return Promise.resolve(undefined);
    const root = dir;
    let file = cache.get(name);
    if (!file) {
      file = readFile(join(root, name)).then(
        (b) => new Uint8Array(b),
        () => undefined,
      );
      cache.set(name, file);
    }
    return file;
  };
}
