import { createHash, randomBytes } from 'node:crypto';
import { validation } from '@simpledeploy/core';
import type { StackService } from '@simpledeploy/deployer';
import type { Context } from 'hono';
import type { AppEnv } from './deps';

export interface StackListQueryInput {
  view?: 'full' | 'summary' | undefined;
  limit?: string | undefined;
  cursor?: string | undefined;
}

// The cursor is the last name of the page, wrapped so clients treat it as opaque.
const encodeCursor = (after: string) =>
  Buffer.from(JSON.stringify({ after }), 'utf8').toString('base64url');

function decodeCursor(cursor: string): string {
  try {
    const { after } = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
      after?: unknown;
    };
    if (typeof after === 'string') return after;
  } catch {
    // Falls through to the same answer as a cursor of the wrong shape.
  }
  throw validation('cursor is not one this server gave: ask again without it', {
    field: 'cursor',
  });
}

/** True when an If-None-Match header names `etag` (weak comparison, `*` included). */
export function matchesEtag(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, '');
  return header.split(',').some((t) => t.trim() === '*' || bare(t) === bare(etag));
}

const CACHED_VARIANTS = 64;

/**
 * `GET /api/v1/stacks`: the list, a page of it or its summary, with an ETag. The ETag
 * is the database's write count (StackService.listVersion) with what was asked for
 * and who asked: no hashing of the answer. The serialized answer is kept for that ETag,
 * so a list polled while nothing changes costs a lookup and a write of its bytes.
 */
export function createStackListAnswer(stacks: Pick<StackService, 'listPage' | 'listVersion'>) {
  // A restart resets the write count: the boot id keeps an old ETag from matching.
  const boot = randomBytes(4).toString('hex');
  const cache = new Map<string, { etag: string; version: number; body: Uint8Array<ArrayBuffer> }>();
  const utf8 = new TextEncoder();

  return (c: Context<AppEnv>, q: StackListQueryInput): Response => {
    const principal = c.get('principal');
    const only = principal && principal.stacks.length > 0 ? principal.stacks : undefined;
    const limit = q.limit === undefined ? undefined : Number(q.limit);
    const after = q.cursor === undefined ? undefined : decodeCursor(q.cursor);
    const view = q.view ?? 'full';
    const variant = `${view}|${limit ?? ''}|${after ?? ''}|${only ? [...only].sort().join(',') : '*'}`;
    const version = stacks.listVersion();
    const variantId = createHash('sha256').update(variant).digest('base64url').slice(0, 16);
    const etag = `"stacks-${boot}-${version}-${variantId}"`;
    const headers = {
      ETag: etag,
      // Stored by a browser, but asked again (If-None-Match) before each use; per key.
      'Cache-Control': 'private, no-cache',
    };
    if (matchesEtag(c.req.header('If-None-Match'), etag)) return c.body(null, 304, headers);

    let body = cache.get(variant);
    if (body?.etag !== etag) {
      const page = stacks.listPage({
        view,
        ...(limit === undefined ? {} : { limit }),
        ...(after === undefined ? {} : { after }),
        ...(only ? { only } : {}),
      });
      const json =
        limit === undefined
          ? { stacks: page.stacks }
          : {
              stacks: page.stacks,
              next_cursor: page.next === null ? null : encodeCursor(page.next),
            };
      // Kept as bytes: a string would be encoded to UTF-8 again on every answer.
      body = { etag, version, body: utf8.encode(JSON.stringify(json)) };
      // Entries of an older version are never served again: their bytes (1.3 MB for the
      // whole list of 1000 stacks) go now, not when their variant is next asked for.
      for (const [k, e] of cache) if (e.version !== version) cache.delete(k);
      if (cache.size >= CACHED_VARIANTS) cache.clear();
      cache.set(variant, body);
    }
    return c.body(body.body, 200, { ...headers, 'Content-Type': 'application/json' });
  };
}
