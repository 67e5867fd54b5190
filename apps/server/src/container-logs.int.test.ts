import { cleanupProject } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, inject, it, onTestFinished } from 'vitest';
import WebSocket from 'ws';
import {
  apiClient,
  composeProcesses,
  type InProcessServer,
  registryFields,
  startInProcessServer,
  until,
} from './test-server';

const registry = inject('registry');
const images = inject('images');
const SECRET = 'whsec-container-logs-0123456789';

let server: InProcessServer;
let viewer: ReturnType<typeof apiClient>;
let viewerKey: string;
const made: string[] = [];

// A service that prints a secret once, then a numbered line every 200 ms.
const compose = `services:
  talker:
    image: ${images.sleeper}
    command: ["/bin/sh", "-c", "echo token=$\${TOKEN}; i=0; while true; do echo tick $$i; i=$$((i+1)); sleep 0.2; done"]
  quiet:
    image: ${images.sleeper}
`;

/** `docker compose logs` processes of this server's projects still alive. */
const followers = () => composeProcesses(server.prefix).filter((l) => / logs /.test(l));

beforeAll(async () => {
  server = await startInProcessServer();
  made.push('chatty');
  const res = await server.api('POST', '/api/v1/stacks', {
    name: 'chatty',
    compose,
    webhook_secret: SECRET,
    compose_variables: { TOKEN: SECRET },
    ...registryFields(registry),
  });
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  const dep = await server.api('POST', '/api/v1/stacks/chatty/deploy?wait=true');
  expect(dep.json.deployment.status, JSON.stringify(dep.json.deployment.error)).toBe('succeeded');
  const key = await server.api('POST', '/api/v1/keys', { name: 'watcher', role: 'viewer' });
  expect(key.status, JSON.stringify(key.json)).toBe(201);
  viewerKey = key.json.key.secret;
  viewer = apiClient(server.base, viewerKey);
});

afterAll(async () => {
  for (const name of made) await cleanupProject(`${server.prefix}-${name}`);
  await server?.stop();
});

describe("a service's container logs on the real engine", () => {
  it('answers the last lines as JSON to a viewer key, redacted', async () => {
    const res = await until(
      async () => {
        const r = await viewer('GET', '/api/v1/stacks/chatty/services/talker/logs?tail=500');
        return r.json.lines?.length >= 3 ? r : undefined;
      },
      20_000,
      'some log lines',
    );
    expect(res.status).toBe(200);
    const lines = res.json.lines as { type: string; text: string; container: string; ts: string }[];
    expect(lines[0]?.type).toBe('line');
    expect(lines.some((l) => /^tick \d+$/.test(l.text))).toBe(true);
    expect(lines.map((l) => l.container)).toContain(`${server.prefix}-chatty-talker-1`);
    expect(new Set(lines.map((l) => l.container)).size).toBe(1);
    expect(lines[0]?.ts).toMatch(/^\d{4}-\d\d-\d\dT/);
    // The secret the container printed is redacted like every other log.
    expect(JSON.stringify(res.json)).not.toContain(SECRET);
    expect(lines.some((l) => l.text.startsWith('token=') && l.text !== `token=${SECRET}`)).toBe(
      true,
    );

    const two = await viewer('GET', '/api/v1/stacks/chatty/services/talker/logs?tail=2');
    expect(two.json.lines).toHaveLength(2);
  });

  it('answers 404 naming the services for a service the stack does not have, 400 for a bad since', async () => {
    const res = await viewer('GET', '/api/v1/stacks/chatty/services/nope/logs');
    expect(res.status).toBe(404);
    expect(res.json.error.message).toBe(
      'stack chatty has no service "nope" with containers; its services are: quiet, talker',
    );
    const bad = await viewer('GET', '/api/v1/stacks/chatty/services/talker/logs?since=--help');
    expect(bad.status).toBe(400);
    expect(bad.json.error.details.field).toBe('since');
  });

  it('follows over Server-Sent Events and kills docker compose logs when the client leaves', async () => {
    const abort = new AbortController();
    const res = await fetch(
      `${server.base}/api/v1/stacks/chatty/services/talker/logs?follow=true&tail=1`,
      { headers: { 'X-API-KEY': viewerKey }, signal: abort.signal },
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    onTestFinished(() => abort.abort());
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    // The tail line, then new ones as the container writes them.
    while ((text.match(/"text":"tick \d+"/g) ?? []).length < 4) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const ticks = [...text.matchAll(/"text":"tick (\d+)"/g)].map((m) => Number(m[1]));
    expect(ticks.length).toBeGreaterThanOrEqual(4);
    expect(ticks).toEqual([...ticks].sort((a, b) => a - b));
    // The docker CLI and its compose plugin, for this one follower.
    expect(followers().length).toBeGreaterThan(0);
    abort.abort();
    await until(() => followers().length === 0, 15_000, 'the follower to be killed');
  });

  it('follows over a WebSocket with ?token= and stops the follower when the socket closes', async () => {
    const url = `${server.base.replace('http', 'ws')}/api/v1/stacks/chatty/services/talker/logs/ws?tail=0&token=${viewerKey}`;
    const ws = new WebSocket(url);
    onTestFinished(() => ws.terminate());
    const messages: { type: string; text?: string }[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        messages.push(JSON.parse(String(data)));
        if (messages.length >= 3) resolve();
      });
      ws.on('error', reject);
    });
    expect(messages.every((m) => m.type === 'line' && /^tick \d+$/.test(m.text ?? ''))).toBe(true);
    ws.close();
    await until(() => followers().length === 0, 15_000, 'the follower to be killed');
  });

  it('refuses a WebSocket for an unknown service with the 404 body', async () => {
    const ws = new WebSocket(
      `${server.base.replace('http', 'ws')}/api/v1/stacks/chatty/services/nope/logs/ws?token=${viewerKey}`,
    );
    const status = await new Promise<number>((resolve) => {
      ws.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.on('open', () => resolve(101));
    });
    expect(status).toBe(404);
  });
});

describe('container stats on the real engine', () => {
  it('gives CPU, memory, network and restarts for every container in one snapshot', async () => {
    const res = await viewer('GET', '/api/v1/stacks/chatty/stats/containers');
    expect(res.status, JSON.stringify(res.json)).toBe(200);
    const rows = res.json.containers as Record<string, unknown>[];
    expect(rows.map((r) => r.service)).toEqual(['quiet', 'talker']);
    for (const r of rows) {
      expect(r.state).toBe('running');
      expect(typeof r.cpu_percent).toBe('number');
      expect(r.memory_usage_bytes as number).toBeGreaterThan(0);
      expect(r.memory_limit_bytes as number).toBeGreaterThan(r.memory_usage_bytes as number);
      expect(typeof r.network_rx_bytes).toBe('number');
      expect(typeof r.network_tx_bytes).toBe('number');
      expect(r.restart_count).toBe(0);
    }
    // /stats stays the deployment statistics.
    const stats = await viewer('GET', '/api/v1/stacks/chatty/stats');
    expect(stats.json.deployments_total).toBe(1);
  });
});
