import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { recordingLogger, TEST_KEY, testDeps } from '../test-helpers';

describe('access log', () => {
  it('logs method, path, status and request id, never headers or the query string', async () => {
    const logger = recordingLogger();
    const app = createApp(testDeps({ logger }));
    app.get('/api/v1/ping', (c) => c.text('pong'));
    await app.request(`/api/v1/ping?token=${TEST_KEY}`, {
      headers: { 'X-API-KEY': TEST_KEY, 'X-Request-Id': 'req-123' },
    });
    const line = logger.entries.find((e) => e.msg === 'request');
    expect(line?.level).toBe('info');
    expect(line?.fields).toMatchObject({
      request_id: 'req-123',
      method: 'GET',
      path: '/api/v1/ping',
      status: 200,
    });
    expect(JSON.stringify(logger.entries)).not.toContain(TEST_KEY);
  });

  it('logs health probes at debug only', async () => {
    const logger = recordingLogger();
    await createApp(testDeps({ logger })).request('/health');
    expect(logger.entries.find((e) => e.msg === 'request')?.level).toBe('debug');
  });
});
