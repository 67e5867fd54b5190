/**
 * What the access middleware hands an open stream (WebSocket or SSE): how to end it when
 * its key is revoked, and which messages its key may see.
 */
export interface StreamGuard {
  /** Registers the stream's close function; returns the function that forgets it. */
  track(close: () => void): () => void;
  /** Whether a message (JSON text) may go out; undefined when every message may. */
  allows?: ((message: string) => boolean) | undefined;
}

/** The open streams of each stored key, so revoking the key ends them. */
export function createStreamRegistry() {
  const byKey = new Map<string, Set<() => void>>();
  return {
    track(keyId: string, close: () => void): () => void {
      let set = byKey.get(keyId);
      if (!set) {
        set = new Set();
        byKey.set(keyId, set);
      }
      set.add(close);
      return () => {
        set.delete(close);
        if (set.size === 0 && byKey.get(keyId) === set) byKey.delete(keyId);
      };
    },
    /** Ends every stream the key opened. */
    closeKey(keyId: string): void {
      const set = byKey.get(keyId);
      byKey.delete(keyId);
      for (const close of set ?? []) close();
    },
    /** How many streams are open for the key (for tests). */
    count: (keyId: string) => byKey.get(keyId)?.size ?? 0,
  };
}

export type StreamRegistry = ReturnType<typeof createStreamRegistry>;

/**
 * An SSE body that ends when the guard says so (its key was revoked) and drops the
 * events whose `data:` the guard does not allow. Ending cancels the route's own stream,
 * so its listeners are released as when the client hangs up.
 */
export function guardedEventStream(
  body: ReadableStream<Uint8Array>,
  guard: StreamGuard,
): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  const encoder = new TextEncoder();
  let pending = '';
  let closed = false;
  let untrack = () => {};

  // Whole events (up to a blank line) are judged by their data; the rest waits for more.
  const filter = (chunk: Uint8Array): Uint8Array | undefined => {
    const allows = guard.allows;
    if (!allows) return chunk;
    pending += decoder.decode(chunk, { stream: true });
    let out = '';
    for (let end = pending.indexOf('\n\n'); end >= 0; end = pending.indexOf('\n\n')) {
      const event = pending.slice(0, end + 2);
      pending = pending.slice(end + 2);
      const data = event
        .split('\n')
        .filter((l) => l.startsWith('data:'))
        .map((l) => l.slice(5).replace(/^ /, ''))
        .join('\n');
      if (data === '' || allows(data)) out += event;
    }
    return out ? encoder.encode(out) : undefined;
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      untrack = guard.track(() => {
        if (closed) return;
        closed = true;
        untrack();
        try {
          controller.close();
        } catch {
          // Already closed by the reader's end.
        }
        reader.cancel('the API key was revoked').catch(() => {});
      });
    },
    async pull(controller) {
      for (;;) {
        let next: Awaited<ReturnType<typeof reader.read>>;
        try {
          next = await reader.read();
        } catch (error) {
          if (!closed) controller.error(error);
          return;
        }
        if (closed) return;
        if (next.done) {
          closed = true;
          untrack();
          controller.close();
          return;
        }
        const out = filter(next.value);
        if (out) {
          controller.enqueue(out);
          return;
        }
      }
    },
    cancel(reason) {
      closed = true;
      untrack();
      return reader.cancel(reason);
    },
  });
}

/** The stack a push message (routes/events.ts) is about. */
export function messageStackId(message: string): string | undefined {
  try {
    const m = JSON.parse(message) as {
      deployment?: { stack_id?: unknown };
      stack?: { id?: unknown };
      stack_id?: unknown;
    };
    const id = m.deployment?.stack_id ?? m.stack?.id ?? m.stack_id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}
