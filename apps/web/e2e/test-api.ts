// The real API (packages/api, its routes, validation, WebSockets and error bodies) on a
// test domain: the real services on in-memory SQLite with real time, and a fake runner
// standing in for the Docker CLI, serving the built UI too. For the smoke run and the
// screenshots, without a Docker engine. What a deploy prints comes from the compose file:
// `# slow` streams 200 more lines, `# fail` makes `up` fail (the deployer then rolls back
// to the last good version, if there is one).
// Run: tsx apps/web/e2e/test-api.ts [port]   (key: TEST_API_KEY or "test-key")
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serve } from '@hono/node-server';
import { createApi } from '@simpledeploy/api';
import { testDomain, testGitops } from '@simpledeploy/api/test-domain';
import { testDeps } from '@simpledeploy/api/test-helpers';
import { systemClock } from '@simpledeploy/core';
import { composeSubcommand, type FakeCall, type FakeRunner } from '@simpledeploy/testing/fakes';
import { mountWebUi } from '../../server/src/web-ui';

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

export interface TestApi {
  url: string;
  server: Server;
  close: () => Promise<void>;
}

/** The `-f` files of a compose call, read: what the deploy is about to run. */
function composeText(call: FakeCall): string {
  const out: string[] = [];
  call.args.forEach((a, i) => {
    const file = call.args[i + 1];
    if (a === '-f' && file) {
      try {
        out.push(readFileSync(file, 'utf8'));
      } catch {
        // A file compose would not find either: nothing to say about it.
      }
    }
  });
  return out.join('\n');
}

const projectOf = (call: FakeCall) => call.args[call.args.indexOf('-p') + 1] ?? 'project';

/** Scripts the fake Docker CLI: `up` prints compose's progress line by line, `ps` one container. */
function scriptRunner(runner: FakeRunner, stepMs: number) {
  runner.on(
    (args) => composeSubcommand(args) === 'ps',
    (call) => ({
      stdout: `${JSON.stringify({
        Name: `${projectOf(call)}-web-1`,
        Service: 'web',
        Image: 'nginx:1.27-alpine',
        State: 'running',
        Health: 'healthy',
      })}\n`,
    }),
  );
  runner.on(
    (args) => composeSubcommand(args) === 'up',
    (call) => {
      const text = composeText(call);
      const project = projectOf(call);
      const lines: [stream: 'stdout' | 'stderr', text: string][] = [
        ['stdout', '\x1b[1m[+] Running 2/2\x1b[0m'],
        ['stdout', ` \x1b[32m✔\x1b[0m Network ${project}_default  \x1b[34mCreated\x1b[0m`],
        ['stdout', ` \x1b[32m✔\x1b[0m Container ${project}-web-1  \x1b[32mStarted\x1b[0m`],
      ];
      if (text.includes('slow'))
        for (let i = 0; i < 200; i++) lines.push(['stdout', `still working… ${i + 1}`]);
      const fail = text.includes('fail');
      if (fail) lines.push(['stderr', `\x1b[31mcontainer ${project}-web-1 is unhealthy\x1b[0m`]);
      let done = () => {};
      const until = new Promise<void>((resolve) => {
        done = resolve;
      });
      let i = 0;
      const tick = () => {
        if (call.options.signal?.aborted) return;
        const line = lines[i++];
        if (!line) return done();
        call.options.onLine?.({ stream: line[0], text: line[1] });
        setTimeout(tick, stepMs).unref();
      };
      setTimeout(tick, stepMs).unref();
      return { until, exitCode: fail ? 1 : 0, ...(fail ? { stderr: 'dependency failed' } : {}) };
    },
  );
}

/**
 * Starts the API on a free port of 127.0.0.1 (or `port`). `seed` adds the stacks the
 * screenshots show (blog deployed, shop and metrics from git); `eventsWs: false` answers
 * no WebSocket at all, so the UI falls back to polling.
 */
export async function startTestApi(
  opts: { port?: number; key?: string; stepMs?: number; seed?: boolean; eventsWs?: boolean } = {},
): Promise<TestApi> {
  const key = opts.key ?? 'test-key';
  const domain = testDomain(key, { clock: systemClock });
  scriptRunner(domain.runner, opts.stepMs ?? 250);
  const api = createApi(
    testDeps({
      apiKey: key,
      domain: { ...domain, gitops: testGitops(domain) },
      rateLimit: false,
      version: 'e2e',
    }),
  );
  mountWebUi(api.app, DIST);

  if (opts.seed !== false) {
    await domain.stacks.create({
      name: 'blog',
      compose: 'services:\n  web:\n    image: nginx:1.27-alpine\n',
    });
    await domain.stacks.create({
      name: 'shop',
      repo_url: 'https://git.example.com/acme/shop.git',
      repo_branch: 'main',
      reconcile_interval_seconds: 60,
      repo_token: 'x',
    });
    await domain.stacks.create({
      name: 'metrics',
      repo_url: 'https://git.example.com/acme/metrics.git',
      reconcile_interval_seconds: 300,
    });
    const { deployment } = domain.deployer.deploy('blog', { trigger: 'manual' });
    await domain.deployer.waitFor(deployment.id);
  }

  const server = await new Promise<Server>((resolve) => {
    const s = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: opts.port ?? 0 }, () =>
      resolve(s as Server),
    ) as Server;
  });
  if (opts.eventsWs !== false) api.injectWebSocket(server);
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      await domain.deployer.shutdown(2000);
      for (const ws of api.wss.clients) ws.terminate();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const api = await startTestApi({
    port: Number(process.argv[2] ?? 8000),
    key: process.env.TEST_API_KEY,
  });
  console.log(`test API and UI at ${api.url} (key: ${process.env.TEST_API_KEY ?? 'test-key'})`);
}
