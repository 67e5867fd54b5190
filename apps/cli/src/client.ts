import type {
  DeployBodyJson,
  DeploymentDetailJson,
  DeploymentJson,
  DeployResultJson,
  ErrorBodyJson,
  KeyJson,
  LogLineJson,
  LogMessageJson,
  RollbackBodyJson,
  StackJson,
} from '@simpledeploy/api/contract';
import { readSse } from './sse';

// The contract's types (packages/api/src/contract), imported as types only: the CLI
// reads what the server's schemas say it sends.
export type Deployment = DeploymentJson;
export type LogLine = LogLineJson;

/** An error answer from the API, with the message from its error body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface ClientOptions {
  url: string;
  apiKey: string;
  fetch?: typeof fetch;
}

const FINISHED = new Set(['succeeded', 'failed', 'canceled', 'rolled_back', 'interrupted']);
export const isFinished = (status: string) => FINISHED.has(status);

/** A thin typed client of the HTTP API for terminals and CI pipelines. */
export function createClient(opts: ClientOptions) {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.url.replace(/\/+$/, '');
  const enc = encodeURIComponent;

  async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await doFetch(`${base}${path}`, {
      method,
      headers: {
        'X-API-KEY': opts.apiKey,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : {};
    } catch {
      throw new ApiError(
        res.status,
        'INTERNAL',
        `the server answered ${res.status} with something that is not JSON`,
      );
    }
    if (!res.ok) {
      const err = (json as Partial<ErrorBodyJson>).error;
      throw new ApiError(res.status, err?.code ?? 'INTERNAL', err?.message ?? `HTTP ${res.status}`);
    }
    return json as T;
  }

  return {
    listStacks: () => call<{ stacks: StackJson[] }>('GET', '/api/v1/stacks'),
    /** With `wait`, the answer comes once the deployment ended (`?wait=true`, for CI). */
    deploy: (stack: string, body: DeployBodyJson, opts: { wait?: boolean } = {}) =>
      call<DeployResultJson>(
        'POST',
        `/api/v1/stacks/${enc(stack)}/deploy${opts.wait ? '?wait=true' : ''}`,
        body,
      ),
    /** Who the key is: its name, role and the stacks it is limited to ([] = all). */
    self: () => call<{ key: KeyJson }>('GET', '/api/v1/keys/self'),
    rollback: (stack: string, versionId?: string) =>
      call<{ deployment: Deployment }>(
        'POST',
        `/api/v1/stacks/${enc(stack)}/rollback`,
        (versionId ? { version_id: versionId } : {}) satisfies RollbackBodyJson,
      ),
    cancel: (stack: string) =>
      call<{ deployment: Deployment }>('POST', `/api/v1/stacks/${enc(stack)}/cancel`),
    deployment: (id: string) =>
      call<{ deployment: DeploymentDetailJson }>('GET', `/api/v1/deployments/${enc(id)}`),
    deployments: (stack: string) =>
      call<{ deployments: Deployment[] }>('GET', `/api/v1/stacks/${enc(stack)}/deployments`),

    /** Follows a deployment's log over SSE until its end; returns the final status. */
    async follow(id: string, onLine: (line: LogLine) => void): Promise<string> {
      const res = await doFetch(`${base}/api/v1/deployments/${enc(id)}/logs?follow=true`, {
        headers: { 'X-API-KEY': opts.apiKey, accept: 'text/event-stream' },
      });
      if (!res.ok || !res.body)
        throw new ApiError(
          res.status,
          'UNAVAILABLE',
          `cannot follow deployment ${id}: HTTP ${res.status}`,
        );
      for await (const e of readSse(res.body)) {
        const msg = JSON.parse(e.data) as LogMessageJson;
        if (msg.type === 'line') onLine(msg);
        else if (msg.type === 'end') return msg.status;
      }
      // The stream ended without an end event (server restart): ask for the status.
      return (await this.deployment(id)).deployment.status;
    },
  };
}

export type Client = ReturnType<typeof createClient>;
