import { describe, expect, it } from 'vitest';
import { swarmNodes } from './swarm-nodes';

describe('swarmNodes', () => {
  it('groups tasks by node, counting the running ones and naming the services', () => {
    expect(
      swarmNodes([
        { service: 'web', state: 'running', node: 'node-b' },
        { service: 'web', state: 'starting', node: 'node-a' },
        { service: 'db', state: 'running', node: 'node-a' },
        { service: 'job', state: 'pending' },
      ]),
    ).toEqual([
      { node: 'node-a', tasks: 2, running: 1, services: ['db', 'web'] },
      { node: 'node-b', tasks: 1, running: 1, services: ['web'] },
      { node: '—', tasks: 1, running: 0, services: ['job'] },
    ]);
  });
});
