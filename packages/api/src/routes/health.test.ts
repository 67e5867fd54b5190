import { createPromMetrics } from '@simpledeploy/deployer';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app';
import { recordingLogger, testDeps } from '../test-helpers';

describe('GET /health', () => {
  it('is 200 ok when the database, docker and compose answer', async () => {
    const res = await createApp(testDeps()).request('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      status: 'ok',
      database: { ok: true },
      docker: { ok: true, version: '20.10.24' },
      compose: { ok: true, version: '2.26.1' },
      version: '0.0.0-test',
    });
  });

  it('is served at /up too', async () => {
    const res = await createApp(testDeps()).request('/up');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('is 503 degraded, with the error body, when docker is down', async () => {
    const deps = testDeps();
    deps.health.docker = async () => ({ ok: false, error: 'cannot connect to the Docker engine' });
    const res = await createApp(deps).request('/health');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({
      status: 'degraded',
      database: { ok: true },
      docker: { ok: false, error: 'cannot connect to the Docker engine' },
      error: {
        code: 'UNAVAILABLE',
        message: 'simpledeploy is degraded: docker is not available',
        details: { down: ['docker'] },
      },
    });
  });

  it('reports a probe that throws as down without echoing its message', async () => {
    const logger = recordingLogger();
    const deps = testDeps({ logger });
    deps.health.database = async () => {
      throw new Error('SQLITE_CORRUPT at /secret/path');
    };
    const res = await createApp(deps).request('/health');
    expect(res.status).toBe(503);
    const text = await res.text();
    expect(text).not.toContain('/secret/path');
    expect(JSON.parse(text)).toMatchObject({
      status: 'degraded',
      database: { ok: false, error: 'the database check failed' },
    });
    expect(logger.entries.some((e) => e.msg === 'health check failed')).toBe(true);
  });
});

describe('GET /metrics', () => {
  it('serves the metrics port in the Prometheus text format', async () => {
    const metrics = createPromMetrics({ version: '0.0.0-test' });
    metrics.deploymentEnded({ status: 'failed', trigger: 'manual', durationSeconds: 3 });
    const res = await createApp(testDeps({ metrics })).request('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain; version=0.0.4');
    const text = await res.text();
    expect(text).toContain('simpledeploy_build_info{version="0.0.0-test"} 1');
    expect(text).toMatch(/^process_resident_memory_bytes \d+$/m);
    expect(text).toContain('simpledeploy_deployments_total{status="failed",trigger="manual"} 1\n');
  });

  it('answers an empty body when the server has no metrics', async () => {
    const res = await createApp(testDeps()).request('/metrics');
    expect(res.status).toBe(200);
    expect(await res.text()).toBe('');
  });
});
