import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AppError, type Logger, notFound, type SecretBox } from '@simpledeploy/core';
import { type Db, findHost, type HostRow } from '@simpledeploy/db';
import { parseDockerHost } from './docker-host-url';
import { remoteRealpath, writeRemoteFiles } from './remote-files';
import { createSshLink, type SshLink } from './ssh-link';

export interface HostConnectionsDeps {
  db: Db;
  secrets: SecretBox;
  logger: Logger;
  /** The server's fixed environment for the Docker CLI (PATH, HOME, its own DOCKER_HOST). */
  childEnv: Record<string, string>;
  /** Private directory for sockets and TLS files; cleared at start-up like the sessions. */
  runDir: string;
}

/** The TLS variables of the server's own engine must not leak onto another host's. */
const ENGINE_VARS = ['DOCKER_HOST', 'DOCKER_TLS_VERIFY', 'DOCKER_CERT_PATH'] as const;

/** A host's row, once per change of the row (a PATCH replaces its connection). */
const stamp = (h: HostRow) => `${h.updatedAt}|${h.dockerHost ?? ''}`;

/**
 * How the Docker CLI here reaches each host's engine. Local and unix hosts are a DOCKER_HOST;
 * a TCP host gets its client certificate in a private directory (the CLI reads files); an SSH
 * host gets one supervised SSH connection (see ssh-link) whose forwarded socket is the
 * DOCKER_HOST, and over which a version's files are synced to the same path there.
 */
export function createHostConnections(deps: HostConnectionsDeps) {
  const links = new Map<string, { stamp: string; link: SshLink }>();
  const tlsDirs = new Map<string, { stamp: string; dir: string }>();
  /** Host names by id, for stack views (a list of 1000 stacks reads the table once). */
  const names = new Map<string, string>();

  function requireHost(idOrName: string): HostRow {
    const h = findHost(deps.db, idOrName);
    if (!h) throw notFound('host', idOrName);
    return h;
  }

  const open = (enc: string | null) => (enc ? deps.secrets.decrypt(enc) : '');

  async function linkFor(h: HostRow): Promise<SshLink> {
    const addr = parseDockerHost(h.dockerHost);
    if (addr.kind !== 'ssh') throw new Error('not an ssh host');
    const have = links.get(h.id);
    if (have?.stamp === stamp(h)) return have.link;
    if (have) await have.link.close();
    const link = createSshLink({
      name: h.name,
      host: addr.host,
      port: addr.port,
      user: addr.user,
      privateKey: open(h.sshPrivateKeyEnc),
      knownHosts: h.sshKnownHosts ?? '',
      runDir: join(deps.runDir, 'hosts'),
      logger: deps.logger,
    });
    links.set(h.id, { stamp: stamp(h), link });
    return link;
  }

  async function tlsDirFor(h: HostRow): Promise<string> {
    const have = tlsDirs.get(h.id);
    if (have?.stamp === stamp(h)) return have.dir;
    if (have) await rm(have.dir, { recursive: true, force: true });
    const base = join(deps.runDir, 'hosts');
    await mkdir(base, { recursive: true, mode: 0o700 });
    const dir = await mkdtemp(join(base, 'tls-'));
    // The CLI reads exactly these names from DOCKER_CERT_PATH.
    await writeFile(join(dir, 'ca.pem'), open(h.tlsCaEnc), { mode: 0o600 });
    await writeFile(join(dir, 'cert.pem'), open(h.tlsCertEnc), { mode: 0o600 });
    await writeFile(join(dir, 'key.pem'), open(h.tlsKeyEnc), { mode: 0o600 });
    tlsDirs.set(h.id, { stamp: stamp(h), dir });
    return dir;
  }

  /** The Docker CLI's whole environment for one host. */
  async function env(hostId: string): Promise<Record<string, string>> {
    const h = requireHost(hostId);
    const addr = parseDockerHost(h.dockerHost);
    if (addr.kind === 'default') return deps.childEnv;
    const base = { ...deps.childEnv };
    for (const k of ENGINE_VARS) delete base[k];
    if (addr.kind === 'unix') return { ...base, DOCKER_HOST: `unix://${addr.path}` };
    if (addr.kind === 'tcp')
      return {
        ...base,
        DOCKER_HOST: `tcp://${addr.host.includes(':') ? `[${addr.host}]` : addr.host}:${addr.port}`,
        DOCKER_TLS_VERIFY: '1',
        DOCKER_CERT_PATH: await tlsDirFor(h),
      };
    const link = await linkFor(h);
    return { ...base, DOCKER_HOST: `unix://${await link.socket()}` };
  }

  return {
    requireHost,
    env,

    /** A host's name (its id when it no longer exists). */
    nameOf(hostId: string): string {
      let n = names.get(hostId);
      if (n === undefined) {
        n = findHost(deps.db, hostId)?.name ?? hostId;
        names.set(hostId, n);
      }
      return n;
    },

    /** True when the host's engine resolves bind mounts on another filesystem than this one. */
    isRemote(hostId: string): boolean {
      const kind = parseDockerHost(requireHost(hostId).dockerHost).kind;
      return kind === 'ssh' || kind === 'tcp';
    },

    /**
     * Writes a version's files to the same absolute directory on an SSH host, where the
     * engine resolves bind mounts and configs. Does nothing for hosts on this filesystem.
     */
    async sync(
      hostId: string,
      root: string,
      files: Record<string, string>,
      signal?: AbortSignal,
    ): Promise<void> {
      const h = requireHost(hostId);
      if (parseDockerHost(h.dockerHost).kind !== 'ssh') return;
      const link = await linkFor(h);
      await writeRemoteFiles(await link.sftp(), root, files, signal);
    },

    /**
     * The paths (absolute, on the host) that do not stay inside `root` once the host
     * resolves their symlinks: the policy's confinement, judged on the host's own files.
     */
    async escapes(hostId: string, root: string, paths: string[]): Promise<string[]> {
      const h = requireHost(hostId);
      if (parseDockerHost(h.dockerHost).kind !== 'ssh') return [];
      const s = await (await linkFor(h)).sftp();
      const realRoot = await remoteRealpath(s, root);
      const out: string[] = [];
      for (const p of paths) {
        const real = await remoteRealpath(s, p);
        if (real !== realRoot && !real.startsWith(`${realRoot}/`)) out.push(p);
      }
      return out;
    },

    /** Why the host cannot be reached right now, if it cannot (SSH: opens the connection). */
    async unreachable(hostId: string): Promise<string | undefined> {
      const h = requireHost(hostId);
      if (parseDockerHost(h.dockerHost).kind !== 'ssh') return undefined;
      const link = await linkFor(h);
      return link.connect().then(
        () => undefined,
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      );
    },

    /** Forgets a host's connection (after a PATCH or DELETE). */
    async forget(hostId: string): Promise<void> {
      names.clear();
      await links.get(hostId)?.link.close();
      links.delete(hostId);
      const t = tlsDirs.get(hostId);
      if (t) await rm(t.dir, { recursive: true, force: true });
      tlsDirs.delete(hostId);
    },

    async close(): Promise<void> {
      for (const id of [...links.keys(), ...tlsDirs.keys()]) await this.forget(id);
    },
  };
}

export type HostConnections = ReturnType<typeof createHostConnections>;

/** A deployment error that names the host: what a user needs when a remote host went away. */
export function hostError(h: Pick<HostRow, 'name' | 'dockerHost'>, why: string): AppError {
  return new AppError(
    'UNAVAILABLE',
    `host ${h.name} (${h.dockerHost ?? 'local engine'}) is unreachable: ${why}`,
    { host: h.name },
  );
}
