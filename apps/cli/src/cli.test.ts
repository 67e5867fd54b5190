import { createApp } from '@simpledeploy/api';
import { testDomain } from '@simpledeploy/api/test-domain';
import { TEST_KEY, testDeps } from '@simpledeploy/api/test-helpers';
import { sub } from '@simpledeploy/testing/fakes';
import { describe, expect, it } from 'vitest';
import { runCli } from './cli';
import { readSse } from './sse';

const compose = 'services:\n  web:\n    image: 127.0.0.1:5000/web:v1\n';

/** The CLI against the real API app (real domain, fake runner), through fetch. */
function setup(apiKey = TEST_KEY) {
  const domain = testDomain();
  const app = createApp(testDeps({ domain }));
  const out: string[] = [];
  const err: string[] = [];
  const cli = (...argv: string[]) =>
    runCli(argv, {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
      env: { SIMPLEDEPLOY_API_KEY: apiKey, SIMPLEDEPLOY_URL: 'http://sd.test' },
      fetch: ((input: string, init?: RequestInit) => app.request(input, init)) as typeof fetch,
    });
  return { domain, cli, out, err };
}

describe('simpledeploy CLI', () => {
  it('deploys, follows the log and exits 0 when the deployment succeeded', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'web', compose });
    expect(await t.cli('deploy', 'web')).toBe(0);
    expect(t.out.join('\n')).toContain('$ docker compose -p simpledeploy-web');
    expect(t.out.at(-1)).toMatch(/deployment .* succeeded/);
  });

  it('exits 1 with the error when the deployment failed', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'bad', compose });
    t.domain.runner.on(sub('pull'), { exitCode: 1, stderr: 'no basic auth credentials' });
    expect(await t.cli('deploy', 'bad')).toBe(1);
    expect(t.out.at(-1)).toContain('failed: pulling images failed: no basic auth credentials');
  });

  it('says what the API refused, and exits 1', async () => {
    const t = setup();
    expect(await t.cli('deploy', 'nope')).toBe(1);
    expect(t.err[0]).toBe("error: stack 'nope' does not exist (NOT_FOUND, HTTP 404)");
  });

  it('refuses a wrong key with the server message', async () => {
    const t = setup();
    expect(await t.cli('stacks', '--key', 'wrong-key-0123456789')).toBe(1);
    expect(t.err[0]).toMatch(/a valid API key is required.*\(UNAUTHORIZED, HTTP 401\)$/s);
  });

  it('lists stacks and history as text or JSON', async () => {
    const t = setup();
    await t.domain.stacks.create({ name: 'a', compose });
    await t.cli('deploy', 'a');
    t.out.length = 0;
    expect(await t.cli('stacks')).toBe(0);
    expect(t.out[0]).toMatch(/^a\tidle\tsucceeded/);
    t.out.length = 0;
    expect(await t.cli('history', 'a', '--json')).toBe(0);
    expect(JSON.parse(t.out.join('\n'))[0]).toMatchObject({
      trigger: 'manual',
      status: 'succeeded',
    });
  });

  it('deploys with --wait using a deployer key from the environment, only its own stack', async () => {
    const admin = setup();
    await admin.domain.stacks.create({ name: 'app', compose });
    await admin.domain.stacks.create({ name: 'other', compose });
    const { secret } = admin.domain.keys.create({ name: 'ci', role: 'deployer', stacks: ['app'] });
    const app = createApp(testDeps({ domain: admin.domain }));
    const out: string[] = [];
    const err: string[] = [];
    const cli = (...argv: string[]) =>
      runCli(argv, {
        out: (t) => out.push(t),
        err: (t) => err.push(t),
        env: { SIMPLEDEPLOY_API_KEY: secret, SIMPLEDEPLOY_URL: 'http://sd.test' },
        fetch: ((input: string, init?: RequestInit) => app.request(input, init)) as typeof fetch,
      });
    expect(await cli('whoami')).toBe(0);
    expect(out.pop()).toBe('ci\tdeployer\tapp');
    expect(await cli('deploy', 'app', '--wait')).toBe(0);
    expect(out.at(-1)).toMatch(/^deployment dep_\S+ succeeded$/);
    expect(await cli('deploy', 'other', '--wait')).toBe(1);
    expect(err.at(-1)).toBe('error: this key is limited to other stacks (FORBIDDEN, HTTP 403)');
    admin.domain.runner.on(sub('pull'), { exitCode: 1, stderr: 'manifest unknown' });
    expect(await cli('deploy', 'app', '--wait', '--force')).toBe(1);
    expect(err.at(-1)).toMatch(/ended failed: pulling images failed: manifest unknown.*HTTP 422/);
  });

  it('prints usage for unknown commands and missing arguments with exit 2', async () => {
    const t = setup();
    expect(await t.cli('explode')).toBe(2);
    expect(await t.cli('deploy')).toBe(2);
    expect(t.err.join('\n')).toContain('deploy needs a stack name');
  });
});

describe('readSse', () => {
  it('parses events split across chunks, with event names and multi-line data', async () => {
    const chunks = ['data: {"a"', ':1}\n\nevent: end\nda', 'ta: x\ndata: y\n\n: comment\n\n'];
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        for (const ch of chunks) c.enqueue(new TextEncoder().encode(ch));
        c.close();
      },
    });
    const events = [];
    for await (const e of readSse(body)) events.push(e);
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'end', data: 'x\ny' },
    ]);
  });
});
