import { describe, expect, it } from 'vitest';
import { href, links, parseRoute } from './route';

describe('parseRoute', () => {
  it('maps hashes to pages', () => {
    expect(parseRoute('')).toEqual({ page: 'stacks' });
    expect(parseRoute('#/')).toEqual({ page: 'stacks' });
    expect(parseRoute('#/new')).toEqual({ page: 'new' });
    expect(parseRoute('#/audit')).toEqual({ page: 'audit' });
    expect(parseRoute('#/notifiers')).toEqual({ page: 'notifiers' });
    expect(parseRoute('#/stacks/web')).toEqual({ page: 'stack', stack: 'web', tab: 'overview' });
    expect(parseRoute('#/stacks/web/versions/')).toEqual({
      page: 'stack',
      stack: 'web',
      tab: 'versions',
    });
    expect(parseRoute('#/deployments/d%201')).toEqual({ page: 'deployment', id: 'd 1' });
    expect(parseRoute('#/stacks/web/nope')).toEqual({
      page: 'not_found',
      path: '/stacks/web/nope',
    });
  });

  it('round-trips through href', () => {
    for (const h of [
      links.stacks(),
      links.newStack(),
      links.notifiers(),
      links.stack('a b', 'settings'),
      links.deployment('x'),
    ]) {
      expect(href(parseRoute(h))).toBe(h);
    }
  });
});
