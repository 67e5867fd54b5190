import { createServer, type Server } from 'node:net';
import { AppError } from '@simpledeploy/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitClient } from './client';

describe('createGitClient', () => {
  let silent: Server;
  let port = 0;
  const sockets = new Set<import('node:net').Socket>();

  beforeAll(async () => {
    // Accepts connections and never answers, like a server stuck behind a firewall.
    silent = createServer((socket) => {
      sockets.add(socket);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const address = silent.address();
    port = typeof address === 'object' && address ? address.port : 0;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  it('gives up on a server that does not answer instead of hanging the deploy', async () => {
    const git = createGitClient({ requestTimeoutMs: 200 });
    const started = performance.now();
    const error = await git
      .resolveRemote(`http://127.0.0.1:${port}/app.git`, 'main', { token: 'tok-12345' })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    expect(error).toMatchObject({
      code: 'UNAVAILABLE',
      message: `cannot reach 127.0.0.1:${port}: Request timed out`,
    });
    expect(performance.now() - started).toBeLessThan(5_000);
  });

  it('validates the URL and the ref before any network access', async () => {
    const git = createGitClient();
    await expect(git.resolveRemote('ssh://host/app.git', 'main', {})).rejects.toThrow(
      /^repo_url must be an http/,
    );
    await expect(
      git.checkout(`http://127.0.0.1:${port}/app.git`, '--upload-pack=x', '/nonexistent', {}),
    ).rejects.toThrow('ref is not a valid git branch or tag name: it must not start with -');
  });
});
