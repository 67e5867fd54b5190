import { describe, expect, it } from 'vitest';
import { parseDockerHost } from './docker-host-url';

describe('parseDockerHost', () => {
  it('reads ssh, tcp and unix addresses with their default ports', () => {
    expect(parseDockerHost('ssh://deploy@10.0.0.2')).toEqual({
      kind: 'ssh',
      user: 'deploy',
      host: '10.0.0.2',
      port: 22,
    });
    expect(parseDockerHost('ssh://root@h.example:2222')).toMatchObject({ port: 2222 });
    expect(parseDockerHost('tcp://h.example')).toEqual({
      kind: 'tcp',
      host: 'h.example',
      port: 2376,
    });
    expect(parseDockerHost('tcp://[fd00::2]:2376')).toMatchObject({ host: 'fd00::2' });
    expect(parseDockerHost('unix:///var/run/docker.sock')).toEqual({
      kind: 'unix',
      path: '/var/run/docker.sock',
    });
    expect(parseDockerHost(null)).toEqual({ kind: 'default' });
  });

  it.each([
    ['http://h', /unknown scheme/],
    ['ssh://h.example', /needs a user/],
    ['ssh://-oProxyCommand=touch@h', /user name/],
    ['ssh://root@-oProxyCommand=x', /host name/],
    ['ssh://root@h example', /host name/],
    ['tcp://h:99999', /port/],
    ['unix://relative.sock', /absolute socket path/],
    ['unix:///var/../etc/docker.sock', /without ".."/],
  ])('refuses %s with what is accepted', (value, why) => {
    expect(() => parseDockerHost(value)).toThrow(why);
    expect(() => parseDockerHost(value)).toThrow(/ssh:\/\/user@host/);
  });
});
