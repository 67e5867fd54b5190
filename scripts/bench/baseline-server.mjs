// A baseline for the HTTP benchmarks, run as its own process (`node baseline-server.mjs`),
// so the load generator, the baseline and simpledeploy never share an event loop.
//   BASELINE_KIND=hello   GET / → "Hello Hono!"; POST / reads the body and answers 202 JSON
//   BASELINE_KIND=static  GET / → the bytes of BASELINE_BODY_FILE as application/json
// Listens on 127.0.0.1:PORT and prints "listening <port>" once it does.
import { readFileSync } from 'node:fs';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';

const kind = process.env.BASELINE_KIND ?? 'hello';
const port = Number(process.env.PORT ?? 0);
const app = new Hono();
if (kind === 'static') {
  const body = readFileSync(process.env.BASELINE_BODY_FILE ?? '');
  app.get('/', (c) => c.body(body, 200, { 'content-type': 'application/json' }));
} else {
  app.get('/', (c) => c.text('Hello Hono!'));
  app.post('/', async (c) => {
    await c.req.arrayBuffer();
    return c.json({ ok: true }, 202);
  });
}
const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port }, (info) => {
  process.stdout.write(`listening ${info.port}\n`);
});
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
