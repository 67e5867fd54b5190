import { randomBytes } from 'node:crypto';
import { createRedactor } from '@simpledeploy/core';
import { startGitServer, type TestGitServer } from '@simpledeploy/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createGitClient } from './client';
import { createKeepAliveHttp } from './keepalive-http';
import { listRemoteRefs, type ProtocolMemo } from './ls-refs';

// Its own server, to count the requests a poll costs.
let server: TestGitServer;
const http = createKeepAliveHttp();
beforeAll(async () => {
  server = await startGitServer({ username: 'poller', password: randomBytes(8).toString('hex') });
});
afterAll(async () => {
  http.close();
  await server.close();
});

const name = (n: string) => `ls-refs-${n}-${randomBytes(4).toString('hex')}`;

describe('ref listing against git http-backend', () => {
  it('speaks protocol v2 and gets only the refs it asked for', async () => {
    const repo = await server.createRepo(name('v2'), { 'compose.yaml': 'services: {}\n' });
    for (const branch of ['main-old', 'dev', 'feature/x']) await repo.createBranch(branch);
    const memo: ProtocolMemo = new Map();
    const basic = `Basic ${Buffer.from(`${server.username}:${server.password}`).toString('base64')}`;
    const ctx = { url: repo.url, hasCredentials: true, redact: createRedactor([server.password]) };
    const refs = await listRemoteRefs(
      http,
      repo.url,
      { prefixes: ['refs/heads/main'], headers: { authorization: basic }, ctx },
      memo,
    );
    expect(memo.get(repo.url)).toBe('v2');
    // The prefix is a prefix: main-old comes too, dev and feature/x do not.
    expect(refs.map((r) => r.ref).sort()).toEqual(['refs/heads/main', 'refs/heads/main-old']);
    expect(refs.find((r) => r.ref === 'refs/heads/main')?.oid).toBe(await repo.headCommit());
    const head = await listRemoteRefs(
      http,
      repo.url,
      { prefixes: ['HEAD'], headers: { authorization: basic }, ctx },
      memo,
    );
    expect(head).toEqual([
      { ref: 'HEAD', oid: await repo.headCommit(), target: 'refs/heads/main' },
    ]);
  });

  it('polls an unchanged repository with one request, and sees a push on the next poll', async () => {
    const git = createGitClient({ requestTimeoutMs: 5_000 });
    const creds = { username: server.username, token: server.password };
    const repo = await server.createRepo(name('push'), { 'compose.yaml': 'services: {}\n' });
    const first = await repo.headCommit();
    expect((await git.resolveRemote(repo.url, 'main', creds)).commit).toBe(first);

    const before = server.requestCount;
    for (let i = 0; i < 5; i++) {
      expect(await git.resolveRemote(repo.url, 'main', creds)).toEqual({
        ref: 'refs/heads/main',
        commit: first,
      });
    }
    // One ls-refs POST per poll: no discovery, no 401 round-trip, no fetch.
    expect(server.requestCount - before).toBe(5);

    const pushed = await repo.commit({ 'compose.yaml': 'services: {}\n# v2\n' }, 'push');
    expect(pushed).not.toBe(first);
    expect((await git.resolveRemote(repo.url, 'main', creds)).commit).toBe(pushed);
  });

  it('still fails a wrong password on every poll, without the password in the message', async () => {
    const git = createGitClient({ requestTimeoutMs: 5_000 });
    const repo = await server.createRepo(name('auth'), { 'compose.yaml': 'services: {}\n' });
    await git.resolveRemote(repo.url, 'main', {
      username: server.username,
      token: server.password,
    });
    for (let i = 0; i < 2; i++) {
      const error = await git
        .resolveRemote(repo.url, 'main', { username: server.username, token: 'wrong-pass-123' })
        .catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ details: { reason: 'auth_failed', status: 401 } });
      expect((error as Error).message).not.toContain('wrong-pass-123');
    }
  });
});
