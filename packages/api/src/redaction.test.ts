import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AppError,
  createJsonLogger,
  createSecretBox,
  createSecretRegistry,
  REDACTED,
  silentLogger,
} from '@simpledeploy/core';
import { createTestDb, updateStack } from '@simpledeploy/db';
import {
  createServices,
  createSourceResolver,
  type SourceResolver,
  trackStackSecrets,
} from '@simpledeploy/deployer';
import { createFakeClock, createFakeRunner, sub } from '@simpledeploy/testing/fakes';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from './app';
import { json, TEST_KEY, testDeps } from './test-helpers';

// One value per secret kind the product holds; each long enough to be redacted.
const S = {
  repoToken: 'ghp_RepoToken0123456789',
  registryPassword: 'reg-Passw0rd-xyz',
  extraRegistryPassword: 'other-Registry-pw-42',
  webhookSecret: 'whsec-Hook-secret-77',
  apiKey: TEST_KEY,
} as const;
const b64 = (s: string) => Buffer.from(s).toString('base64');

/** Every form in which a secret can turn up in output, by kind. */
const LEAKS: [kind: string, text: string, mustNotContain: string[]][] = [
  ['repo token', `token ${S.repoToken}`, [S.repoToken]],
  [
    'repo token inside a URL',
    `fatal: unable to access 'https://bob:${S.repoToken}@git.example/o/r.git/'`,
    [S.repoToken],
  ],
  [
    'repo token as the URL user',
    `cloning https://${S.repoToken}@git.example/o/r.git`,
    [S.repoToken],
  ],
  [
    'unknown token inside a URL',
    'remote: https://someone:never-stored-tok3n@other.example/x.git',
    ['never-stored-tok3n'],
  ],
  ['URL-encoded token', `https://h/x?t=${encodeURIComponent(`${S.repoToken}/+`)}`, [S.repoToken]],
  ['registry password', `login with ${S.registryPassword}`, [S.registryPassword]],
  [
    'registry password, base64',
    `password ${b64(S.registryPassword)}`,
    [b64(S.registryPassword), S.registryPassword],
  ],
  [
    'registry user:pass, base64 as in docker config auths',
    `{"auths":{"127.0.0.1:5000":{"auth":"${b64(`deploy:${S.registryPassword}`)}"}}}`,
    [b64(`deploy:${S.registryPassword}`)],
  ],
  [
    'second registry user:pass, base64',
    `auth=${b64(`ci-bot:${S.extraRegistryPassword}`)}`,
    [b64(`ci-bot:${S.extraRegistryPassword}`)],
  ],
  ['webhook secret', `X-Gitlab-Token: ${S.webhookSecret}`, [S.webhookSecret]],
  ['API key', `X-API-KEY: ${S.apiKey}`, [S.apiKey]],
  ['API key as bearer', `Authorization: Bearer ${S.apiKey}`, [S.apiKey]],
  ['basic auth header', 'Authorization: Basic ZGVwbG95ZXI6cHc=', ['ZGVwbG95ZXI6cHc=']],
];

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

async function setup() {
  const handle = createTestDb();
  const runner = createFakeRunner();
  const clock = createFakeClock();
  const box = createSecretBox('redaction-test');
  const registry = createSecretRegistry([S.apiKey]);
  const serverLog: string[] = [];
  const logger = createJsonLogger({
    redact: registry.redact,
    write: (l) => serverLog.push(l),
    now: () => clock.now(),
  });
  // The source can be told to fail with a message, as a git error would.
  let sourceError: string | undefined;
  const inline = createSourceResolver();
  const sources: SourceResolver = {
    async resolve(stack, secrets, opts) {
      if (sourceError) throw new AppError('VALIDATION', sourceError);
      return inline.resolve(stack, secrets, opts);
    },
  };
  const services = createServices({
    db: handle.db,
    runner,
    clock,
    logger,
    secrets: box,
    redact: registry.redact,
    sources,
    config: {
      dataDir: mkdtempSync(join(tmpdir(), 'sd-redact-')),
      projectPrefix: 'simpledeploy',
      maxConcurrent: 3,
      childEnv: { PATH: '/usr/bin:/bin' },
      reapplyRetryDelayMs: 0,
    },
  });
  trackStackSecrets({
    db: handle.db,
    box,
    registry,
    onChange: services.deployer.onChange,
  });
  const domain = { ...services, runner, clock, db: handle.db };
  const app = createApp(testDeps({ domain, logger, redact: registry.redact, rateLimit: false }));
  const api = (method: string, path: string, body?: unknown) =>
    app.request(path, {
      method,
      headers: { 'X-API-KEY': TEST_KEY, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const stack = await services.stacks.create({
    name: 'web',
    compose,
    repo_token: S.repoToken,
    webhook_secret: S.webhookSecret,
    docker_registry: '127.0.0.1:5000',
    docker_username: 'deploy',
    docker_password: S.registryPassword,
    registries: [{ registry: 'r2.example', username: 'ci-bot', password: S.extraRegistryPassword }],
  });
  return {
    app,
    api,
    services,
    runner,
    db: handle.db,
    stackId: stack.id,
    serverLog,
    logger,
    failSource: (m: string | undefined) => {
      sourceError = m;
    },
  };
}

type T = Awaited<ReturnType<typeof setup>>;

const expectClean = (out: string, mustNot: string[]) => {
  for (const s of mustNot) expect(out).not.toContain(s);
};

/** Runs one deploy whose compose output (and failure) carries `text`; returns its id. */
async function deployPrinting(t: T, text: string, onEvent?: (e: unknown) => void): Promise<string> {
  t.runner.on(sub('pull'), {
    lines: [
      { stream: 'stdout', text: `pulling: ${text}` },
      { stream: 'stderr', text: `error: ${text}` },
    ],
    stderr: `error: ${text}\n`,
    exitCode: 1,
  });
  const { deployment } = t.services.deployer.deploy('web', { trigger: 'manual', force: true });
  if (onEvent) t.services.deployer.logs.subscribe(deployment.id, onEvent);
  await t.services.deployer.waitFor(deployment.id);
  return deployment.id;
}

describe.each(LEAKS)('the %s never leaves the process', (_kind, text, mustNot) => {
  it('through the deployment log, stored and streamed, and its error', async () => {
    const t = await setup();
    const live: string[] = [];
    const id = await deployPrinting(t, text, (e) => live.push(JSON.stringify(e)));
    expect(live.length).toBeGreaterThan(3);
    const detail = await (await t.api('GET', `/api/v1/deployments/${id}`)).text();
    expect(detail).toContain(REDACTED);
    expectClean(detail, mustNot);
    expectClean(await (await t.api('GET', `/api/v1/deployments/${id}/logs`)).text(), mustNot);
    const sse = await (await t.api('GET', `/api/v1/deployments/${id}/logs?follow=true`)).text();
    expect(sse).toContain('event: end');
    expectClean(sse, mustNot);
    expectClean(JSON.stringify(t.services.deployer.storedLog(id)), mustNot);
    expectClean(live.join('\n'), mustNot);
    expectClean(JSON.stringify(t.services.deployer.listDeployments('web')), mustNot);
  });

  it('through a source (git) error, in the deployment and the ?wait=true response', async () => {
    const t = await setup();
    t.failSource(`cannot fetch: ${text}`);
    const res = await t.api('POST', '/api/v1/stacks/web/deploy?wait=true');
    expect(res.status).toBe(422);
    const body = await res.text();
    expect(body).toContain('cannot fetch');
    expectClean(body, mustNot);
  });

  it('through error messages in API responses', async () => {
    const t = await setup();
    // docker compose down fails, quoting the secret: the 503 explains without it.
    t.runner.on(sub('down'), { exitCode: 1, stderr: `Error response from daemon: ${text}` });
    const down = await t.api('DELETE', '/api/v1/stacks/web');
    expect(down.status).toBe(503);
    expectClean(await down.text(), mustNot);
    t.runner.on(sub('ps'), { exitCode: 1, stderr: `cannot connect: ${text}` });
    const ps = await t.api('GET', '/api/v1/stacks/web/services');
    expect(ps.status).toBe(503);
    expectClean(await ps.text(), mustNot);
  });

  it('through the server log', async () => {
    const t = await setup();
    t.logger.info(`message with ${text}`, { detail: text, error: new Error(text) });
    t.logger.child({ request_id: 'r1' }).error('failed', { nested: { text } });
    await deployPrinting(t, text);
    expect(t.serverLog.length).toBeGreaterThanOrEqual(2);
    expectClean(t.serverLog.join('\n'), mustNot);
  });

  it('through API responses: stack JSON, version files, lifecycle output', async () => {
    const t = await setup();
    // A secret pasted where it does not belong: the compose YAML, a variable, a poll error.
    await t.services.stacks.update('web', {
      compose: `${compose}    environment:\n      LEAK: "${text.replace(/"/g, "'")}"\n`,
      compose_variables: { LEAK: text },
    });
    updateStack(t.db, t.stackId, { lastPollError: `poll failed: ${text}` });
    const { deployment } = t.services.deployer.deploy('web', { trigger: 'manual' });
    await t.services.deployer.waitFor(deployment.id);
    const versions = await json(await t.api('GET', '/api/v1/stacks/web/versions'));
    expect(versions.versions.length).toBe(1);
    t.runner.on(sub('restart'), { stdout: `restarting with ${text}\n` });
    expect((await t.api('POST', '/api/v1/stacks/web/control', { command: 'restart' })).status).toBe(
      202,
    );
    await vi.waitFor(() => {
      expect(t.services.lifecycle.history('web')[0]?.status).toBe('succeeded');
    });
    const outputs = [
      await (await t.api('GET', '/api/v1/stacks')).text(),
      await (await t.api('GET', '/api/v1/stacks/web')).text(),
      await (await t.api('GET', `/api/v1/stacks/web/versions/${versions.versions[0].id}`)).text(),
      await (await t.api('GET', '/api/v1/stacks/web/events')).text(),
    ];
    expect(outputs[3]).toContain(`restarting with ${REDACTED}`.slice(0, 16));
    for (const out of outputs) expectClean(out, mustNot);
  });
});

describe('the secret registry behind the server log', () => {
  it('forgets a deleted stack and learns a changed secret', async () => {
    const t = await setup();
    const redact = (s: string) =>
      JSON.parse(
        (() => {
          t.serverLog.length = 0;
          t.logger.info(s);
          return t.serverLog[0] ?? '{}';
        })(),
      ).msg as string;
    expect(redact(S.webhookSecret)).toBe(REDACTED);
    await t.services.stacks.update('web', { webhook_secret: 'a-brand-new-hook-secret' });
    expect(redact('a-brand-new-hook-secret')).toBe(REDACTED);
    t.runner.on(sub('down'), {});
    expect((await t.api('DELETE', '/api/v1/stacks/web')).status).toBe(202);
    expect(redact('a-brand-new-hook-secret')).toBe('a-brand-new-hook-secret');
    expect(redact(S.apiKey)).toBe(REDACTED);
  });

  it('never changes text without secrets', async () => {
    const t = await setup();
    t.logger.info('deployment succeeded for https://git.example/o/r.git');
    expect(t.serverLog[0]).toContain('https://git.example/o/r.git');
    expect(silentLogger).toBeDefined();
  });
});

describe('redaction keeps help text readable', () => {
  it('the 401 says how to send the key, placeholders intact', async () => {
    const t = await setup();
    const res = await t.app.request('/api/v1/stacks', {
      headers: { Authorization: 'Bearer wrong-key-0123456789' },
    });
    expect(res.status).toBe(401);
    const body = await json(res);
    expect(body.error.message).toBe(
      'a valid API key is required: send it as "X-API-KEY: <key>" or "Authorization: Bearer <key>"',
    );
    expect(JSON.stringify(body)).not.toContain('wrong-key-0123456789');
  });

  it('while a real credential after Authorization: is still masked in error messages', async () => {
    const t = await setup();
    t.failSource(`cannot fetch: Authorization: Bearer never-stored-tok3n (and ${S.repoToken})`);
    const res = await t.api('POST', '/api/v1/stacks/web/deploy?wait=true');
    const body = await res.text();
    expect(body).toContain(`Authorization: Bearer ${REDACTED}`);
    expectClean(body, ['never-stored-tok3n', S.repoToken]);
  });
});
