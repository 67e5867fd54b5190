import { describe, expect, it } from 'vitest';
import {
  type ActualContainer,
  diffDrift,
  normalizeImage,
  parseComposeConfig,
  parseInspect,
} from './drift';

const config = (services: Record<string, unknown>) => JSON.stringify({ name: 'p', services });

const running = (service: string, image: string, extra: Partial<ActualContainer> = {}) => ({
  name: `p-${service}-1`,
  service,
  image,
  state: 'running',
  exitCode: 0,
  health: '',
  ...extra,
});

describe('parseComposeConfig', () => {
  it('reads services, images, replicas and one-shot jobs', () => {
    const desired = parseComposeConfig(
      config({
        web: {
          image: 'r/web:v1',
          deploy: { replicas: 2 },
          depends_on: { migrate: { condition: 'service_completed_successfully' } },
        },
        migrate: { image: 'r/web:v1' },
        app: { build: { context: '.' } },
      }),
    );
    expect(desired.known).toEqual(['app', 'migrate', 'web']);
    expect(desired.services).toEqual([
      { service: 'app', image: 'p-app', replicas: 1, oneShot: false },
      { service: 'migrate', image: 'r/web:v1', replicas: 1, oneShot: true },
      { service: 'web', image: 'r/web:v1', replicas: 2, oneShot: false },
    ]);
  });

  it('limits the desired services to the filter and what they depend on', () => {
    const desired = parseComposeConfig(
      config({
        web: { image: 'w', depends_on: { db: { condition: 'service_started' } } },
        db: { image: 'd' },
        worker: { image: 'x' },
      }),
      ['web'],
    );
    expect(desired.services.map((s) => s.service)).toEqual(['db', 'web']);
    expect(desired.known).toEqual(['db', 'web', 'worker']);
  });
});

describe('parseInspect', () => {
  it('reads name, service label, configured image, state, health and restarts; skips one-off containers', () => {
    const out = JSON.stringify([
      {
        Name: '/p-web-1',
        Created: '2026-11-30T10:00:00.5Z',
        RestartCount: 2,
        Config: {
          Image: 'r/web:v1',
          Labels: { 'com.docker.compose.project': 'p', 'com.docker.compose.service': 'web' },
        },
        State: { Status: 'running', ExitCode: 0, Health: { Status: 'healthy' } },
      },
      {
        Name: '/p-web-run-1',
        Config: { Image: 'r/web:v1', Labels: { 'com.docker.compose.oneoff': 'True' } },
        State: { Status: 'exited', ExitCode: 0 },
      },
    ]);
    expect(parseInspect(out)).toEqual([
      {
        name: 'p-web-1',
        service: 'web',
        image: 'r/web:v1',
        state: 'running',
        exitCode: 0,
        health: 'healthy',
        restartCount: 2,
        createdAt: '2026-11-30T10:00:00.5Z',
      },
    ]);
    expect(parseInspect('')).toEqual([]);
  });
});

describe('normalizeImage', () => {
  it.each([
    ['nginx', 'nginx:latest'],
    ['docker.io/library/nginx:1.25', 'nginx:1.25'],
    ['127.0.0.1:5000/web', '127.0.0.1:5000/web:latest'],
    ['127.0.0.1:5000/web:v1', '127.0.0.1:5000/web:v1'],
    ['r/web@sha256:abc', 'r/web@sha256:abc'],
  ])('%s → %s', (input, output) => expect(normalizeImage(input)).toBe(output));
});

describe('diffDrift', () => {
  const desired = parseComposeConfig(
    config({ web: { image: 'r/web:v2' }, db: { image: 'r/db:v1' } }),
  );

  it('is empty when every service runs its image', () => {
    expect(diffDrift(desired, [running('web', 'r/web:v2'), running('db', 'r/db:v1')])).toEqual([]);
  });

  it('reports a missing service', () => {
    expect(diffDrift(desired, [running('web', 'r/web:v2')])).toEqual([
      { service: 'db', type: 'missing', expected: 'r/db:v1', actual: null },
    ]);
  });

  it('reports a container running another image', () => {
    expect(diffDrift(desired, [running('web', 'r/web:v1'), running('db', 'r/db:v1')])).toEqual([
      {
        service: 'web',
        container: 'p-web-1',
        type: 'image_mismatch',
        expected: 'r/web:v2',
        actual: 'r/web:v1',
      },
    ]);
  });

  it('reports a stopped and an unhealthy container', () => {
    const items = diffDrift(desired, [
      running('web', 'r/web:v2', { state: 'exited', exitCode: 137 }),
      running('db', 'r/db:v1', { health: 'unhealthy' }),
    ]);
    expect(items.map((i) => [i.service, i.type, i.actual])).toEqual([
      ['db', 'unhealthy', 'unhealthy'],
      ['web', 'stopped', 'exited (137)'],
    ]);
  });

  it('does not count a health check that is still starting', () => {
    expect(
      diffDrift(desired, [
        running('web', 'r/web:v2', { health: 'starting' }),
        running('db', 'r/db:v1'),
      ]),
    ).toEqual([]);
  });

  it('reports a container of the project whose service the compose file lacks as extra', () => {
    const items = diffDrift(desired, [
      running('web', 'r/web:v2'),
      running('db', 'r/db:v1'),
      running('stray', 'r/x:v1', { name: 'stray-1' }),
    ]);
    expect(items).toEqual([
      {
        service: 'stray',
        container: 'stray-1',
        type: 'extra',
        expected: null,
        actual: 'stray-1 (r/x:v1, running)',
      },
    ]);
  });

  it('accepts a one-shot job that completed, but not one that failed', () => {
    const d = parseComposeConfig(
      config({
        web: {
          image: 'w',
          depends_on: { init: { condition: 'service_completed_successfully' } },
        },
        init: { image: 'i' },
      }),
    );
    const ok = [running('web', 'w'), running('init', 'i', { state: 'exited', exitCode: 0 })];
    expect(diffDrift(d, ok)).toEqual([]);
    const failed = [running('web', 'w'), running('init', 'i', { state: 'exited', exitCode: 1 })];
    expect(diffDrift(d, failed).map((i) => i.type)).toEqual(['stopped']);
  });

  it('counts replicas and ignores services scaled to zero', () => {
    const d = parseComposeConfig(
      config({ web: { image: 'w', deploy: { replicas: 2 } }, off: { image: 'o', scale: 0 } }),
    );
    expect(diffDrift(d, [running('web', 'w')])).toEqual([
      { service: 'web', type: 'missing', expected: '2 containers of w', actual: '1 container(s)' },
    ]);
  });

  it('does not report services outside the filter as extra', () => {
    const d = parseComposeConfig(config({ web: { image: 'w' }, worker: { image: 'x' } }), ['web']);
    expect(diffDrift(d, [running('web', 'w'), running('worker', 'x')])).toEqual([]);
  });
});
