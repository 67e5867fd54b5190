import type { HttpClient } from 'isomorphic-git';

/**
 * A request whose whole answer is held in memory: a ref listing, a few hundred bytes
 * answered every poll. It skips what a packfile download needs (an async iterator per
 * response, a counting generator around it): those were a third of a poll's CPU.
 */
export interface SmallRequest {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  body?: Buffer | undefined;
  /** Idle timeout of the request, in ms (0: none). */
  timeoutMs?: number | undefined;
  /** The body of a 200 answer is cut off past this many bytes (ResponseTooLarge). */
  maxBytes?: number | undefined;
}

export interface SmallResponse {
  statusCode: number;
  statusMessage: string;
  headers: Record<string, string | string[] | undefined>;
  /** The body of a 200 answer; empty for any other status (its body is drained unread). */
  body: Buffer;
}

export type SmallHttp = (req: SmallRequest) => Promise<SmallResponse>;

/** A transport that may answer small requests the cheap way. */
export type RefListingHttp = HttpClient & { small?: SmallHttp | undefined };

/** A 200 answer larger than the request's maxBytes. */
export class ResponseTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes`);
  }
}

export const EMPTY = Buffer.alloc(0);

/** The small path over any isomorphic-git transport (tests' fakes, a custom transport). */
export function smallOver(http: HttpClient): SmallHttp {
  return async (req) => {
    const res = await http.request({
      url: req.url,
      method: req.method,
      headers: req.headers,
      ...(req.body ? { body: [req.body] as unknown as AsyncIterableIterator<Uint8Array> } : {}),
      fetchOptions: { timeout: req.timeoutMs ?? 0, followRedirects: false },
    });
    const answer = {
      statusCode: res.statusCode,
      statusMessage: res.statusMessage,
      headers: res.headers ?? {},
    };
    if (res.statusCode !== 200) {
      await res.body?.return?.();
      return { ...answer, body: EMPTY };
    }
    const max = req.maxBytes ?? Number.POSITIVE_INFINITY;
    const chunks: Uint8Array[] = [];
    let total = 0;
    if (res.body) {
      for await (const chunk of res.body) {
        total += chunk.byteLength;
        if (total > max) {
          await res.body.return?.();
          throw new ResponseTooLarge(max);
        }
        chunks.push(chunk);
      }
    }
    return { ...answer, body: Buffer.concat(chunks, total) };
  };
}
