import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runOk } from './exec.js';
import { getFreePort, waitFor } from './net.js';
import { type Daemon, startDaemon } from './processes.js';

export interface RegistryCredentials {
  username: string;
  password: string;
}

export interface StartRegistryOptions {
  /** Makes the registry private: every request needs these Basic credentials. */
  auth?: RegistryCredentials;
}

export interface TestRegistry {
  /** `127.0.0.1:<port>`, the prefix of image references. */
  host: string;
  /** `http://127.0.0.1:<port>` */
  url: string;
  username?: string;
  password?: string;
  /** Temp dir with config, htpasswd, storage and registry.log. */
  dir: string;
  stop(): Promise<void>;
}

function registryConfig(port: number, dir: string, withAuth: boolean): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    `  secret: sdtest-${port}`,
  ];
  if (withAuth) {
    lines.push(
      'auth:',
      '  htpasswd:',
      '    realm: simpledeploy-test',
      `    path: ${join(dir, 'htpasswd')}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

async function answers(url: string): Promise<boolean> {
  const response = await fetch(`${url}/v2/`, { signal: AbortSignal.timeout(2_000) });
  await response.body?.cancel();
  return response.status === 200 || response.status === 401;
}

/**
 * Starts Debian's `docker-registry` (Distribution 2.8) on a free port of 127.0.0.1 with
 * storage in a temp dir; with `auth` it is private (htpasswd, bcrypt). Resolves once
 * it answers `/v2/`.
 */
export async function startRegistry(options: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(join(tmpdir(), 'sdtest-registry-'));
  try {
    if (options.auth) {
      const { username, password } = options.auth;
      const { stdout } = await runOk('htpasswd', ['-Bbn', username, password]);
      await writeFile(join(dir, 'htpasswd'), `${stdout.trim()}\n`);
    }
    // The free port can be taken between the probe and the bind: try a few.
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      const port = await getFreePort();
      const configPath = join(dir, 'config.yml');
      await writeFile(configPath, registryConfig(port, dir, Boolean(options.auth)));
      const daemon: Daemon = startDaemon('docker-registry', ['serve', configPath], {
        logFile: join(dir, 'registry.log'),
      });
      const url = `http://127.0.0.1:${port}`;
      let exited = false;
      void daemon.exited.then(() => {
        exited = true;
      });
      try {
        await waitFor(`docker-registry on ${url} (log: ${join(dir, 'registry.log')})`, async () => {
          if (exited) throw new Error('docker-registry exited');
          return answers(url);
        });
      } catch (error) {
        lastError = error;
        await daemon.stop();
        continue;
      }
      return {
        host: `127.0.0.1:${port}`,
        url,
        ...options.auth,
        dir,
        async stop() {
          await daemon.stop();
          await rm(dir, { recursive: true, force: true });
        },
      };
    }
    throw lastError;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
