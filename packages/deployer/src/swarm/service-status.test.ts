import { describe, expect, it } from 'vitest';
import {
  imageDigests,
  parseServiceInspect,
  parseServicePs,
  type SwarmService,
  type SwarmTask,
  serviceProgress,
} from './service-status';

const IMG = 'reg/web:v2@sha256:2222';

const inspect = JSON.stringify([
  {
    ID: 'svc1',
    Spec: {
      Name: 'sd-web_web',
      Mode: { Replicated: { Replicas: 2 } },
      TaskTemplate: { ContainerSpec: { Image: IMG } },
    },
    UpdateStatus: { State: 'paused', StartedAt: 't2', Message: 'update paused due to failure' },
  },
  {
    ID: 'svc2',
    Spec: {
      Name: 'sd-web_agent',
      Mode: { Global: {} },
      TaskTemplate: { ContainerSpec: { Image: 'reg/agent:v1' } },
    },
  },
]);

const ps = [
  {
    ID: 't1',
    Name: 'sd-web_web.1',
    Image: IMG,
    Node: 'node-a',
    DesiredState: 'Running',
    CurrentState: 'Running 3 seconds ago',
    Error: '',
  },
  {
    ID: 't2',
    Name: 'sd-web_web.2',
    Image: IMG,
    Node: 'node-b',
    DesiredState: 'Running',
    CurrentState: 'Starting 1 second ago',
    Error: '',
  },
  {
    ID: 't0',
    Name: 'sd-web_web.2',
    Image: 'reg/web:v1@sha256:1111',
    Node: 'node-b',
    DesiredState: 'Shutdown',
    CurrentState: 'Failed 4 seconds ago',
    Error: 'task: non-zero exit (1)',
  },
  {
    ID: 't3',
    Name: 'sd-web_agent.n1',
    Image: 'reg/agent:v1',
    Node: 'node-a',
    DesiredState: 'Running',
    CurrentState: 'Running 1 minute ago',
    Error: '',
  },
]
  .map((l) => JSON.stringify(l))
  .join('\n');

describe('parsing the manager', () => {
  it('reads services without the stack prefix, their spec image, replicas and update', () => {
    const services = parseServiceInspect(inspect, 'sd-web');
    expect(services).toEqual([
      { id: 'svc2', service: 'agent', image: 'reg/agent:v1', replicas: undefined, update: null },
      {
        id: 'svc1',
        service: 'web',
        image: IMG,
        replicas: 2,
        update: { state: 'paused', startedAt: 't2', message: 'update paused due to failure' },
      },
    ]);
    expect(imageDigests(services)).toEqual({ web: IMG });
  });

  it('reads tasks with their node and state word', () => {
    const tasks = parseServicePs(ps, 'sd-web');
    expect(tasks.map((t) => [t.service, t.node, t.desired, t.state])).toEqual([
      ['agent', 'node-a', 'running', 'running'],
      ['web', 'node-a', 'running', 'running'],
      ['web', 'node-b', 'running', 'starting'],
      ['web', 'node-b', 'shutdown', 'failed'],
    ]);
  });
});

describe('serviceProgress', () => {
  const services = parseServiceInspect(inspect, 'sd-web');
  const tasks = parseServicePs(ps, 'sd-web');
  const web = services.find((s) => s.service === 'web') as SwarmService;
  const agent = services.find((s) => s.service === 'agent') as SwarmService;

  it('fails on an update Swarm paused during this deploy, with its message', () => {
    const p = serviceProgress(web, tasks, 't1');
    expect(p.done).toBe(true);
    expect(p.failure).toBe(
      'service web: Swarm paused the update: update paused due to failure; task: non-zero exit (1)',
    );
  });

  it('fails on a rollback Swarm made', () => {
    const rolled = {
      ...web,
      update: { state: 'rollback_completed', startedAt: 't9', message: 'rollback completed' },
    };
    expect(serviceProgress(rolled, tasks, 't1').failure).toMatch(
      /rolled the update back \(rollback_completed\)/,
    );
  });

  it('ignores an update state an earlier deploy left, and waits for the replicas', () => {
    const p = serviceProgress(web, tasks, 't2');
    expect(p.failure).toBeUndefined();
    expect(p.done).toBe(false);
    expect(p.line).toBe('web: 1/2 running, last task error: task: non-zero exit (1)');
  });

  it('is done when every replica runs the spec image and no update is in progress', () => {
    const all: SwarmTask[] = tasks.map((t) => (t.id === 't2' ? { ...t, state: 'running' } : t));
    expect(serviceProgress({ ...web, update: null }, all, undefined)).toMatchObject({
      done: true,
      running: 2,
    });
    const updating = { ...web, update: { state: 'updating', startedAt: 't5', message: '' } };
    expect(serviceProgress(updating, all, undefined)).toMatchObject({
      done: false,
      line: 'web: 2/2 running, updating',
    });
  });

  it('counts a global service as done when all its tasks run', () => {
    expect(serviceProgress(agent, tasks, undefined)).toMatchObject({
      done: true,
      line: 'agent: 1 running (global)',
    });
  });
});
