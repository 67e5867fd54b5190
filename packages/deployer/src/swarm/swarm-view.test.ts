import type { DesiredProject } from '@simpledeploy/compose';
import { describe, expect, it } from 'vitest';
import type { SwarmService, SwarmTask } from './service-status';
import { diffSwarmDrift, swarmTaskRows } from './swarm-view';

const V1 = 'reg/web:v1@sha256:1111';
const V2 = 'reg/web:v1@sha256:2222';
const desired: DesiredProject = {
  services: [{ service: 'web', image: 'reg/web:v1', replicas: 2, oneShot: false }],
  known: ['web'],
};
const svc = (over: Partial<SwarmService> = {}): SwarmService => ({
  id: 's1',
  service: 'web',
  image: V1,
  replicas: 2,
  update: null,
  ...over,
});
const task = (slot: number, node: string, over: Partial<SwarmTask> = {}): SwarmTask => ({
  id: `t${slot}`,
  name: `sd-web_web.${slot}`,
  service: 'web',
  image: V1,
  node,
  desired: 'running',
  state: 'running',
  error: '',
  ...over,
});

describe('diffSwarmDrift', () => {
  it('is empty when every replica runs the recorded digest', () => {
    expect(diffSwarmDrift(desired, [svc()], [task(1, 'a'), task(2, 'b')], { web: V1 })).toEqual([]);
  });

  it('names the node of a replica that is not running', () => {
    const items = diffSwarmDrift(
      desired,
      [svc()],
      [task(1, 'a'), task(2, 'b', { state: 'starting', error: 'unhealthy' })],
      { web: V1 },
    );
    expect(items).toEqual([
      {
        service: 'web',
        type: 'missing',
        expected: '2 replicas',
        actual: '1 running; sd-web_web.2 on b: starting (unhealthy)',
      },
    ]);
  });

  it('reports a digest other than the recorded one, on the service and on a task with its node', () => {
    const items = diffSwarmDrift(
      desired,
      [svc({ image: V2 })],
      [task(1, 'a', { image: V2 }), task(2, 'b')],
      { web: V1 },
    );
    expect(items).toEqual([
      { service: 'web', type: 'image_mismatch', expected: V1, actual: V2 },
      {
        service: 'web',
        type: 'image_mismatch',
        expected: V2,
        actual: `${V1} on b`,
        container: 'sd-web_web.2',
      },
    ]);
  });

  it('reports a missing service, a paused update, more replicas than asked and a foreign service', () => {
    const two: DesiredProject = {
      services: [
        ...desired.services,
        { service: 'db', image: 'reg/db:v1', replicas: 1, oneShot: false },
      ],
      known: ['db', 'web'],
    };
    const items = diffSwarmDrift(
      two,
      [
        svc({ replicas: 3, update: { state: 'paused', startedAt: 't', message: 'task failed' } }),
        svc({ id: 's9', service: 'old', image: 'reg/old:v1' }),
      ],
      [task(1, 'a'), task(2, 'b'), task(3, 'a')],
      {},
    );
    expect(items.map((i) => [i.service, i.type, i.actual])).toEqual([
      ['web', 'extra', '3 replicas'],
      ['web', 'unhealthy', 'update paused: task failed'],
      ['db', 'missing', null],
      ['old', 'extra', 'service old (reg/old:v1)'],
    ]);
  });
});

describe('swarmTaskRows', () => {
  it('lists the tasks Swarm wants running, each with its node', () => {
    const rows = swarmTaskRows([
      task(1, 'a'),
      task(2, 'b', { desired: 'shutdown', state: 'failed' }),
    ]);
    expect(rows).toEqual([
      {
        service: 'web',
        container: 'sd-web_web.1',
        image: V1,
        state: 'running',
        health: '',
        node: 'a',
      },
    ]);
  });
});
