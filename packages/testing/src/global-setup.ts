import { randomBytes } from 'node:crypto';
import type { TestProject } from 'vitest/node';
import type { SimpledeployProvidedContext } from './context.js';
import { startGitServer, type TestGitServer } from './git-server.js';
import { buildTestImages, removeRegistryTags } from './images.js';
import { checkDocker } from './projects.js';
import { startRegistry, type TestRegistry } from './registry.js';

/**
 * Vitest globalSetup of the integration project: fails loudly without a Docker engine
 * and compose v2, then starts a private and a public registry with the test images
 * and a git server, provides them to tests (see SimpledeployProvidedContext) and
 * tears everything down afterwards.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = performance.now();
  const docker = await checkDocker();
  const stops: Array<() => Promise<void>> = [];
  const teardown = async () => {
    for (const stop of stops.reverse()) {
      try {
        await stop();
      } catch (error) {
        console.error('[simpledeploy/testing] teardown step failed:', error);
      }
    }
  };
  try {
    const credentials = { username: 'sdtest', password: randomBytes(12).toString('hex') };
    const [registry, publicRegistry, gitServer] = await Promise.all([
      startRegistry({ auth: credentials }),
      startRegistry(),
      startGitServer({ username: 'sdgit', password: randomBytes(12).toString('hex') }),
    ]);
    for (const reg of [registry, publicRegistry] as TestRegistry[]) {
      stops.push(async () => {
        await reg.stop();
        await removeRegistryTags(reg.host);
      });
    }
    stops.push(() => (gitServer as TestGitServer).close());
    const images = await buildTestImages(registry);
    const publicImages = await buildTestImages(publicRegistry);
    const provided: SimpledeployProvidedContext = {
      registry: { host: registry.host, url: registry.url, ...credentials },
      publicRegistry: { host: publicRegistry.host, url: publicRegistry.url },
      images,
      publicImages,
      gitServer: {
        url: gitServer.url,
        username: gitServer.username,
        password: gitServer.password,
        root: gitServer.root,
      },
      docker,
    };
    project.provide('registry', provided.registry);
    project.provide('publicRegistry', provided.publicRegistry);
    project.provide('images', provided.images);
    project.provide('publicImages', provided.publicImages);
    project.provide('gitServer', provided.gitServer);
    project.provide('docker', provided.docker);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(
      `[simpledeploy/testing] engine ${docker.serverVersion}, compose ${docker.composeVersion}; registries ${registry.host} (auth) and ${publicRegistry.host}, git ${gitServer.url}; ready in ${seconds} s`,
    );
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
