import { describe, expect, it } from 'vitest';
import { logKind } from './log-kind';

describe('logKind', () => {
  it.each([
    [' Container simpledeploy-shop-web-1  Started', 'progress'],
    [' web Pulling ', 'progress'],
    [' Network simpledeploy-shop_default  Created', 'progress'],
    ['#5 [app 2/2] COPY hello.txt /hello.txt', 'progress'],
    ['Error response from daemon: Conflict. The container name is in use', 'error'],
    ['dependency failed to start: container web-1 is unhealthy', 'error'],
    ['pull access denied for x, repository does not exist', 'error'],
    ['unauthorized: authentication required', 'error'],
  ])('reads compose stderr %j as %s', (text, kind) => {
    expect(logKind({ stream: 'stderr', text })).toBe(kind);
  });

  it('keeps stdout and system lines as they are, whatever they say', () => {
    expect(logKind({ stream: 'stdout', text: 'error in the app output' })).toBe('out');
    expect(logKind({ stream: 'system', text: 'deployment failed' })).toBe('system');
  });
});
