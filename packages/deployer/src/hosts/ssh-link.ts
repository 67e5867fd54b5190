import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from '@simpledeploy/core';
import type { Client, SFTPWrapper } from 'ssh2';
import { hostKeyPinned, parseKnownHosts } from './known-hosts';
import { ssh2 } from './ssh2-module';

export interface SshLinkOptions {
  /** The host's name, for messages. */
  name: string;
  host: string;
  port: number;
  user: string;
  /** OpenSSH or PEM private key text; kept in memory, never written to disk. */
  privateKey: string;
  knownHosts: string;
  /** A private directory (0700) for the local socket that carries the Docker API. */
  runDir: string;
  logger: Logger;
  /** The engine's socket on the remote side. */
  remoteSocket?: string;
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
}

/** Unix socket paths are limited to about 108 bytes; longer data dirs fall back to the temp dir. */
const MAX_SOCKET_PATH = 100;

/**
 * One supervised SSH connection to a host, shared by every command for it: the Docker API
 * is forwarded from a local unix socket to the remote engine's socket (DOCKER_HOST for the
 * CLI here), and files are synced over SFTP on the same connection. Nothing runs on the
 * remote side but sshd's forwarding, so killing a local compose leaves no remote process.
 * The connection is opened on first use and again after it dropped; when it drops, every
 * forwarded stream is closed at once so a command in flight fails instead of hanging.
 */
export function createSshLink(o: SshLinkOptions) {
  const knownHosts = parseKnownHosts(o.knownHosts);
  const streams = new Set<Socket>();
  let client: Client | undefined;
  let connecting: Promise<Client> | undefined;
  let sftp: Promise<SFTPWrapper> | undefined;
  let server: Server | undefined;
  let socketPath: string | undefined;
  let socketDir: string | undefined;
  let lastError: string | undefined;
  let closed = false;

  function dropStreams() {
    for (const s of streams) s.destroy();
    streams.clear();
  }

  function connect(): Promise<Client> {
    if (closed) return Promise.reject(new Error(`the connection to host ${o.name} was closed`));
    if (client) return Promise.resolve(client);
    if (connecting) return connecting;
    connecting = new Promise<Client>((resolve, reject) => {
      const c = new (ssh2().Client)();
      let keyRefused = false;
      let ready = false;
      c.on('ready', () => {
        ready = true;
        client = c;
        lastError = undefined;
        resolve(c);
      });
      c.on('error', (err) => {
        const why = keyRefused
          ? `its SSH host key does not match ssh_known_hosts (refused; pin the host's current key to continue)`
          : err.message;
        lastError = why;
        if (!ready) reject(new Error(why));
      });
      c.on('close', () => {
        if (client === c) {
          client = undefined;
          sftp = undefined;
          lastError ??= 'the SSH connection closed';
          o.logger.warn('ssh connection closed', { host: o.name });
        }
        dropStreams();
        if (!ready) reject(new Error(lastError ?? 'the SSH connection closed'));
      });
      c.connect({
        host: o.host,
        port: o.port,
        username: o.user,
        privateKey: o.privateKey,
        readyTimeout: o.readyTimeoutMs ?? 10_000,
        keepaliveInterval: o.keepaliveIntervalMs ?? 5_000,
        keepaliveCountMax: 3,
        hostVerifier: (key: Buffer) => {
          const ok = hostKeyPinned(knownHosts, o.host, o.port, key);
          if (!ok) keyRefused = true;
          return ok;
        },
      });
    }).finally(() => {
      connecting = undefined;
    });
    return connecting;
  }

  /** A local connection to the socket: one forwarded stream to the remote engine. */
  function forward(local: Socket) {
    streams.add(local);
    local.on('close', () => streams.delete(local));
    local.on('error', () => local.destroy());
    local.pause();
    connect()
      .then((c) =>
        c.openssh_forwardOutStreamLocal(o.remoteSocket ?? '/var/run/docker.sock', (err, remote) => {
          if (err || local.destroyed) {
            if (err) lastError = `the engine socket on ${o.name} cannot be opened: ${err.message}`;
            local.destroy();
            remote?.destroy();
            return;
          }
          local.pipe(remote).pipe(local);
          remote.on('close', () => local.destroy());
          remote.on('error', () => local.destroy());
          local.on('close', () => remote.destroy());
          local.resume();
        }),
      )
      .catch(() => local.destroy());
  }

  return {
    get lastError() {
      return lastError;
    },
    get connected() {
      return client !== undefined;
    },

    /** The local socket path that reaches the remote engine (starts listening on first call). */
    async socket(): Promise<string> {
      if (socketPath) return socketPath;
      await mkdir(o.runDir, { recursive: true, mode: 0o700 });
      let dir = await mkdtemp(join(o.runDir, 'h-'));
      if (join(dir, 'd.sock').length > MAX_SOCKET_PATH) {
        await rm(dir, { recursive: true, force: true });
        dir = await mkdtemp(join(tmpdir(), 'sd-h-'));
      }
      socketDir = dir;
      const path = join(dir, 'd.sock');
      const srv = createServer(forward);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(path, () => resolve());
      });
      server = srv;
      socketPath = path;
      return path;
    },

    /** Opens the connection now (health checks, before a deploy); rejects with why it failed. */
    connect: () => connect().then(() => undefined),

    /** The SFTP session on the shared connection. */
    sftp(): Promise<SFTPWrapper> {
      sftp ??= connect().then(
        (c) =>
          new Promise<SFTPWrapper>((resolve, reject) =>
            c.sftp((err, s) => (err ? reject(err) : resolve(s))),
          ),
      );
      sftp.catch(() => {
        sftp = undefined;
      });
      return sftp;
    },

    /** Closes the connection and the local socket; the link cannot be used afterwards. */
    async close(): Promise<void> {
      closed = true;
      dropStreams();
      client?.end();
      client = undefined;
      await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
      if (socketDir) await rm(socketDir, { recursive: true, force: true });
    },
  };
}

export type SshLink = ReturnType<typeof createSshLink>;
