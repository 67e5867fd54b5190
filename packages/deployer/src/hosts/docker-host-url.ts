import { validation } from '@simpledeploy/core';

/** Where a host's engine is, read from its `docker_host`. */
export type HostAddress =
  | { kind: 'default' }
  | { kind: 'unix'; path: string }
  | { kind: 'tcp'; host: string; port: number }
  | { kind: 'ssh'; user: string; host: string; port: number };

const HOSTNAME =
  /^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\])$/;
const USER = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/**
 * Parses `ssh://user@host[:port]`, `tcp://host:port` or `unix:///path.sock`; null means the
 * server's own engine. Anything else is a VALIDATION error that says what is accepted, so an
 * option-looking host (`-oProxyCommand=…`) or a path with `..` never reaches a connection.
 */
export function parseDockerHost(value: string | null | undefined): HostAddress {
  if (!value) return { kind: 'default' };
  const fail = (why: string) =>
    validation(
      `docker_host ${why}: use ssh://user@host[:port], tcp://host:port (TLS client certificates) or unix:///path/to/docker.sock`,
      { field: 'docker_host' },
    );
  const m = /^(ssh|tcp|unix):\/\/(.*)$/.exec(value);
  if (!m) throw fail('has an unknown scheme');
  const [, scheme, rest = ''] = m;
  if (scheme === 'unix') {
    if (!rest.startsWith('/') || rest.split('/').includes('..') || /[\0\s]/.test(rest))
      throw fail('needs an absolute socket path without ".."');
    return { kind: 'unix', path: rest };
  }
  let userPart: string | undefined;
  let hostPart = rest;
  if (scheme === 'ssh') {
    const at = rest.lastIndexOf('@');
    if (at < 0) throw fail('needs a user (ssh://user@host)');
    userPart = rest.slice(0, at);
    hostPart = rest.slice(at + 1);
    if (!USER.test(userPart)) throw fail('has a user name that is not valid');
  }
  const hp = /^(\[[^\]]+\]|[^:/]+)(?::(\d{1,5}))?\/?$/.exec(hostPart);
  if (!hp?.[1] || !HOSTNAME.test(hp[1])) throw fail('has a host name that is not valid');
  const port = hp[2] ? Number(hp[2]) : scheme === 'ssh' ? 22 : 2376;
  if (port < 1 || port > 65535) throw fail('has a port outside 1-65535');
  const host = hp[1].replace(/^\[|\]$/g, '');
  if (scheme === 'ssh') return { kind: 'ssh', user: userPart as string, host, port };
  return { kind: 'tcp', host, port };
}
