import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CommandRunner, createRedactor, silentLogger, systemClock } from '@simpledeploy/core';
import { createExecaRunner, findComposePlugin } from '@simpledeploy/deployer';
import {
  cleanupProject,
  getFreePort,
  startGitServer,
  type TestGitServer,
  uniqueProjectName,
} from '@simpledeploy/testing';
import { loadConfig, type ServerConfig } from './config';
import { buildContainer, type Container } from './container';

// Helpers for the integration tests that run a real server (in process or bundled).

export interface JsonResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: assertions read the JSON
  json: any;
}

/** A JSON client of one server, with the API key. */
export function apiClient(base: string, apiKey: string) {
  return async (method: string, path: string, body?: unknown): Promise<JsonResponse> => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { 'X-API-KEY': apiKey, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = text;
    }
    return { status: res.status, json };
  };
}

export interface InProcessServer {
  container: Container;
  base: string;
  prefix: string;
  dataDir: string;
  apiKey: string;
  api: ReturnType<typeof apiClient>;
  /** Stops the server and removes its data dir (not its containers: see cleanupProject). */
  stop(): Promise<void>;
}

/**
 * A server built like main.ts builds it (real execa runner), on a free 127.0.0.1 port
 * with its own data dir and project prefix; `env` adds or overrides variables.
 */
export async function startInProcessServer(
  env: Record<string, string> = {},
  opts: { runner?: CommandRunner } = {},
): Promise<InProcessServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'sd-int-'));
  const prefix = uniqueProjectName('sdtest');
  const apiKey = `int-key-${randomBytes(12).toString('hex')}`;
  const port = await getFreePort();
  const config = loadConfig({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    SIMPLEDEPLOY_API_KEY: apiKey,
    SIMPLEDEPLOY_SECRET_KEY: 'int-secret-key-0123456789',
    SIMPLEDEPLOY_DATA_DIR: dataDir,
    SIMPLEDEPLOY_PROJECT_PREFIX: prefix,
    HOST: '127.0.0.1',
    PORT: String(port),
    ...env,
  }) as ServerConfig;
  const container = buildContainer(config, {
    logger: silentLogger,
    redact: createRedactor([apiKey]),
    clock: systemClock,
    runner:
      opts.runner ??
      createExecaRunner({ killGraceMs: 2000, composePlugin: findComposePlugin(process.env) }),
    version: 'int',
  });
  await container.start();
  const base = `http://127.0.0.1:${port}`;
  return {
    container,
    base,
    prefix,
    dataDir,
    apiKey,
    api: apiClient(base, apiKey),
    async stop() {
      await container.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Polls until fn returns a truthy value, bounded. */
export async function until<T>(
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  ms: number,
  what: string,
  intervalMs = 200,
): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** Command lines of the docker / docker-compose processes alive for projects `<prefix>-…`. */
export function composeProcesses(prefix: string): string[] {
  const out = execFileSync('ps', ['-eo', 'pid,args'], { encoding: 'utf8' });
  return out
    .split('\n')
    .filter((l) => /\bdocker(-compose)? (compose )?/.test(l) && l.includes(`-p ${prefix}-`));
}

/** Resolves once the deployment's stored log shows compose `up` has started. */
export async function untilUpStarted(
  api: ReturnType<typeof apiClient>,
  deploymentId: string,
  ms = 60_000,
): Promise<void> {
  await until(
    async () =>
      (await api('GET', `/api/v1/deployments/${deploymentId}`)).json.deployment?.log?.some(
        (l: { text: string }) => / up -d /.test(l.text),
      ),
    ms,
    'compose up to start',
  );
}

/** A health check that never passes inside a long start period: `up --wait` hangs. */
export const HANGING_HEALTHCHECK =
  '    healthcheck:\n      test: ["CMD", "/bin/false"]\n      interval: 1s\n      start_period: 600s\n';

/** A stack body's registry login fields for the shared test registry. */
export const registryFields = (registry: {
  host: string;
  username?: string;
  password?: string;
}) => ({
  docker_registry: registry.host,
  docker_username: registry.username,
  docker_password: registry.password,
});

/** The containers of a compose project, as the engine has them. */
export function projectContainers(project: string): { id: string; name: string; state: string }[] {
  return execFileSync(
    'docker',
    [
      'ps',
      '-a',
      '--filter',
      `label=com.docker.compose.project=${project}`,
      '--format',
      '{{.ID}}\t{{.Names}}\t{{.State}}',
    ],
    { encoding: 'utf8' },
  )
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [id = '', name = '', state = ''] = l.split('\t');
      return { id, name, state };
    });
}

/**
 * An in-process server beside a git server of its own, for a test file that makes stacks:
 * `made` lists the stacks whose compose projects close() removes with both servers.
 */
export async function startServerWithGit(
  gitUser: string,
  made: string[],
): Promise<{ server: InProcessServer; git: TestGitServer; close(): Promise<void> }> {
  const server = await startInProcessServer();
  const git = await startGitServer({ username: gitUser, password: randomBytes(8).toString('hex') });
  return {
    server,
    git,
    async close() {
      for (const name of made) await cleanupProject(`${server.prefix}-${name}`);
      await server.stop();
      await git.close();
    },
  };
}
