import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, inject, it } from 'vitest';
import {
  type ComposeProject,
  createComposeProject,
  getFreePort,
  projectResources,
  WEB_CONTAINER_PORT,
  writeDockerConfig,
} from './index.js';

const registry = inject('registry');
const images = inject('images');
const publicImages = inject('publicImages');

const projects: ComposeProject[] = [];
const dirs: string[] = [];

async function project(yaml: string, dockerConfig?: string): Promise<ComposeProject> {
  const created = await createComposeProject(yaml, { dockerConfig });
  projects.push(created);
  return created;
}

async function configDir(withCredentials: boolean): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'sdtest-docker-config-'));
  dirs.push(dir);
  if (withCredentials) {
    await writeDockerConfig(dir, {
      [registry.host]: { username: registry.username!, password: registry.password! },
    });
  }
  return dir;
}

function webService(image: string, port: number): string {
  return `services:\n  web:\n    image: ${image}\n    ports:\n      - "127.0.0.1:${port}:${WEB_CONTAINER_PORT}"\n`;
}

async function body(port: number): Promise<string> {
  const response = await fetch(`http://127.0.0.1:${port}/`);
  return response.text();
}

afterEach(async () => {
  for (const created of projects.splice(0)) await created.cleanup();
});

afterAll(async () => {
  await Promise.all(dirs.map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('the private registry', () => {
  it('lets compose pull with credentials from DOCKER_CONFIG', async () => {
    const app = await project(webService(images.webV1, await getFreePort()), await configDir(true));
    const result = await app.compose(['pull']);
    expect(result.exitCode, result.stderr).toBe(0);
  });

  it('refuses compose pull without credentials', async () => {
    const app = await project(
      webService(images.webV1, await getFreePort()),
      await configDir(false),
    );
    const result = await app.compose(['pull']);
    expect(result.exitCode).not.toBe(0);
    expect(result.stdout + result.stderr).toMatch(/no basic auth credentials|unauthorized/i);
  });

  it('answers /v2/ with 401 without credentials', async () => {
    const response = await fetch(`${registry.url}/v2/`);
    expect(response.status).toBe(401);
    const auth = Buffer.from(`${registry.username}:${registry.password}`).toString('base64');
    const ok = await fetch(`${registry.url}/v2/`, { headers: { authorization: `Basic ${auth}` } });
    expect(ok.status).toBe(200);
  });
});

describe('the test images under docker compose', () => {
  it('serves v1, then v2 after a quick recreate', async () => {
    const port = await getFreePort();
    const app = await project(webService(publicImages.webV1, port), await configDir(false));
    const up = await app.compose(['up', '-d', '--wait']);
    expect(up.exitCode, up.stderr).toBe(0);
    expect(await body(port)).toBe('v1');

    // Same project, new image: compose recreates the container.
    await writeFile(app.file, webService(publicImages.webV2, port));
    const recreate = await app.compose(['up', '-d', '--wait']);
    expect(recreate.exitCode, recreate.stderr).toBe(0);
    expect(await body(port)).toBe('v2');
    // The web image exits on SIGTERM at once instead of waiting the 10 s grace period.
    expect(recreate.durationMs).toBeLessThan(8_000);
  });

  it('makes up --wait fail when the health check fails', async () => {
    const app = await project(
      `services:\n  bad:\n    image: ${publicImages.unhealthy}\n`,
      await configDir(false),
    );
    const up = await app.compose(['up', '-d', '--wait']);
    expect(up.exitCode).not.toBe(0);
    expect(up.stdout + up.stderr).toMatch(/unhealthy/i);
  });

  it('stops the sleeper at once', async () => {
    const app = await project(
      `services:\n  s:\n    image: ${publicImages.sleeper}\n`,
      await configDir(false),
    );
    expect((await app.compose(['up', '-d'])).exitCode).toBe(0);
    const stop = await app.compose(['stop']);
    expect(stop.exitCode, stop.stderr).toBe(0);
    expect(stop.durationMs).toBeLessThan(5_000);
  });

  it('leaves no container, network or volume behind after cleanup', async () => {
    const yaml = [
      'services:',
      '  web:',
      `    image: ${images.webV1}`,
      '    networks: [front]',
      '    volumes: ["data:/data", "/anon"]',
      'networks:',
      '  front: {}',
      'volumes:',
      '  data: {}',
      '',
    ].join('\n');
    const app = await createComposeProject(yaml, { dockerConfig: await configDir(true) });
    try {
      const up = await app.compose(['up', '-d', '--wait']);
      expect(up.exitCode, up.stderr).toBe(0);
      const before = await projectResources(app.name);
      expect(before.containers).toHaveLength(1);
      expect(before.networks).toHaveLength(1);
      expect(before.volumes).toHaveLength(1);
    } finally {
      await app.cleanup();
    }
    expect(await projectResources(app.name)).toEqual({ containers: [], networks: [], volumes: [] });
  });
});
