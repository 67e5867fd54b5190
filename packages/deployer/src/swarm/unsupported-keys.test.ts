import { describe, expect, it } from 'vitest';
import { swarmProblems, swarmProblemsMessage } from './unsupported-keys';

const model = (services: Record<string, unknown>, top: Record<string, unknown> = {}) => ({
  name: 'sd-web',
  services,
  ...top,
});

describe('swarmProblems', () => {
  it('accepts what compose config prints for a plain Swarm-ready service', () => {
    const m = model({
      web: {
        image: '127.0.0.1:5000/web:v1',
        command: null,
        entrypoint: null,
        networks: { default: null },
        ports: [{ mode: 'ingress', target: 80, published: '8080', protocol: 'tcp' }],
        depends_on: { db: { condition: 'service_started', required: true } },
        deploy: { replicas: 2, restart_policy: { condition: 'any' } },
        healthcheck: { test: ['CMD', 'true'] },
        profiles: ['web'],
        'x-note': 1,
      },
      db: { image: '127.0.0.1:5000/db:v1' },
    });
    expect(swarmProblems(m)).toEqual([]);
  });

  it('lists every key Swarm rejects or ignores, with the service and the fix', () => {
    const m = model({
      web: {
        image: 'web',
        build: { context: '.' },
        container_name: 'web',
        restart: 'always',
        links: ['db'],
        network_mode: 'host',
        privileged: true,
        mem_limit: '1g',
        ports: [{ target: 80, published: '8080-8081', host_ip: '127.0.0.1' }],
        depends_on: { db: { condition: 'service_healthy', required: true } },
      },
      job: { build: { context: '.' } },
    });
    const problems = swarmProblems(m);
    const keys = problems.map((p) => `${p.service}:${p.key}`);
    expect(keys).toEqual(
      expect.arrayContaining([
        'web:build',
        'web:container_name',
        'web:restart',
        'web:links',
        'web:network_mode',
        'web:privileged',
        'web:mem_limit',
        'web:ports[0].host_ip',
        'web:ports[0].published',
        'web:depends_on.db.condition',
        'job:build',
        'job:image',
      ]),
    );
    expect(problems.find((p) => p.key === 'restart')?.fix).toMatch(/deploy\.restart_policy/);
    expect(problems.find((p) => p.key === 'mem_limit')?.fix).toMatch(/deploy\.resources/);
    const msg = swarmProblemsMessage(problems);
    expect(msg).toMatch(/^this stack cannot run on Swarm as written \(12 keys/);
    expect(msg).toContain('service web: container_name (');
  });

  it('refuses an unknown service key and a top-level key docker stack deploy lacks', () => {
    const problems = swarmProblems(
      model({ web: { image: 'web', some_future_key: 1 } }, { include: [] }),
    );
    expect(problems).toEqual([
      { key: 'include', fix: expect.stringMatching(/no top-level include/) },
      { service: 'web', key: 'some_future_key', fix: expect.stringMatching(/does not support/) },
    ]);
  });

  it('refuses a config or secret taken from the environment, accepts file, content and external', () => {
    const problems = swarmProblems(
      model(
        { web: { image: 'web' } },
        {
          configs: {
            a: { file: '/x' },
            b: { content: 'x' },
            c: { external: true },
            d: { environment: 'X' },
          },
          secrets: { s: { environment: 'S' } },
        },
      ),
    );
    expect(problems.map((p) => p.key)).toEqual(['configs.d', 'secrets.s']);
  });
});
