// An in-memory stand-in for the simpledeploy API (shared/docs/api.md), serving the
// built UI too. For screenshots and UI checks before, or without, the real server:
// deploys are scripted (log lines on a timer), WebSockets are a minimal RFC 6455 server.
// Run: tsx apps/web/e2e/fake-api.ts [port]   (key: FAKE_API_KEY or "test-key")
import { createHash, randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { dirname, extname, join, normalize } from 'node:path';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';

type Json = Record<string, unknown>;
interface Line {
  seq: number;
  ts: string;
  stream: string;
  text: string;
}
interface Dep extends Json {
  id: string;
  stack_id: string;
  status: string;
  log: Line[];
}

const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');
const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
};

export interface FakeApi {
  url: string;
  server: Server;
  close: () => Promise<void>;
}

export async function startFakeApi(
  opts: { port?: number; key?: string; stepMs?: number; seed?: boolean; eventsWs?: boolean } = {},
): Promise<FakeApi> {
  const key = opts.key ?? 'test-key';
  const stepMs = opts.stepMs ?? 250;
  const stacks = new Map<string, Json>();
  const deployments = new Map<string, Dep>();
  const versions = new Map<string, Json[]>();
  const eventSockets = new Set<Duplex>();
  const logSockets = new Map<string, Set<Duplex>>();
  const timers = new Set<NodeJS.Timeout>();
  const now = () => new Date().toISOString();

  const publicStack = (s: Json) => {
    const { repo_token, webhook_secret, docker_password, ...rest } = s;
    return {
      ...rest,
      has_repo_token: !!repo_token,
      has_webhook_secret: !!webhook_secret,
      has_docker_password: !!docker_password,
    };
  };
  const publicDep = ({ log, ...d }: Dep) => d;
  const broadcast = (msg: Json) => {
    for (const s of eventSockets) wsSend(s, msg);
  };
  const find = (ref: string) =>
    stacks.get(ref) ?? [...stacks.values()].find((s) => s.name === ref) ?? null;

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  const setDep = (d: Dep, patch: Partial<Dep>) => {
    Object.assign(d, patch);
    const s = stacks.get(d.stack_id);
    if (s) {
      s.status = d.status === 'running' ? 'deploying' : d.status === 'queued' ? 'queued' : 'idle';
      if (!['queued', 'running'].includes(d.status)) {
        s.last_deployment = { id: d.id, status: d.status, finished_at: d.finished_at };
        if (d.status === 'succeeded') {
          s.current_version_id = d.version_id;
          for (const v of versions.get(s.id as string) ?? []) v.current = v.id === d.version_id;
        }
      }
      s.updated_at = now();
    }
    broadcast({ type: 'deployment', deployment: publicDep(d) });
    if (s) broadcast({ type: 'stack', stack: publicStack(s) });
    if (!['queued', 'running'].includes(d.status)) {
      for (const sock of logSockets.get(d.id) ?? []) {
        wsSend(sock, { type: 'end', status: d.status });
        wsClose(sock);
      }
      logSockets.delete(d.id);
    }
  };
  const addLine = (d: Dep, stream: string, text: string) => {
    const line = { seq: d.log.length + 1, ts: now(), stream, text };
    d.log.push(line);
    for (const sock of logSockets.get(d.id) ?? []) wsSend(sock, { type: 'line', ...line });
  };

  const startDeploy = (s: Json, trigger: string, versionId?: string): Dep => {
    const content = String(s.compose ?? s.repo_url ?? '');
    const sha = createHash('sha256').update(content).digest('hex');
    const list = versions.get(s.id as string) ?? [];
    let version = versionId
      ? list.find((v) => v.id === versionId)
      : list.find((v) => v.sha256 === sha);
    if (!version) {
      version = {
        id: `v_${sha.slice(0, 10)}`,
        sha256: sha,
        git_commit: s.repo_url ? sha.slice(20, 60) : null,
        created_at: now(),
        last_deployed_at: null,
        current: false,
        files: { 'compose.yaml': content },
        variables: (s.compose_variables as Json) ?? {},
      };
      list.unshift(version);
      versions.set(s.id as string, list);
    }
    const d: Dep = {
      id: randomUUID(),
      stack_id: s.id as string,
      status: 'queued',
      trigger,
      git_commit: version.git_commit ?? null,
      version_id: version.id as string,
      error: null,
      queued_at: now(),
      started_at: null,
      finished_at: null,
      log: [],
    };
    deployments.set(d.id, d);
    setDep(d, {});
    const files = version.files as Record<string, string>;
    const fail = Object.values(files).some((f) => f.includes('fail'));
    const slow = Object.values(files).some((f) => f.includes('slow'));
    const steps: Array<[string, string]> = [
      ['system', `Deploying version ${version.id} (trigger: ${trigger})`],
      ['stdout', '\x1b[1m[+] Pulling\x1b[0m 2/2'],
      ['stdout', ' \x1b[32m✔\x1b[0m web Pulled                                   1.2s'],
      ['stderr', 'WARN[0000] /compose.yaml: `version` is obsolete'],
      ['stdout', '[+] Running 2/2'],
      ['stdout', ' \x1b[32m✔\x1b[0m Network simpledeploy-app_default  \x1b[34mCreated\x1b[0m'],
      ['stdout', ' \x1b[32m✔\x1b[0m Container simpledeploy-app-web-1  \x1b[32mStarted\x1b[0m'],
      ['system', 'Waiting for services to be healthy'],
    ];
    if (slow) for (let i = 0; i < 200; i++) steps.push(['stdout', `still working… ${i + 1}`]);
    later(stepMs, () => {
      setDep(d, { status: 'running', started_at: now() });
      let i = 0;
      const tick = () => {
        if (d.status !== 'running') return;
        const step = steps[i++];
        if (step) {
          addLine(d, step[0], step[1]);
          later(stepMs, tick);
          return;
        }
        if (fail) {
          addLine(d, 'stderr', '\x1b[31mcontainer simpledeploy-app-web-1 is unhealthy\x1b[0m');
          addLine(d, 'system', 'Rolling back to the last good version');
          setDep(d, {
            status: 'rolled_back',
            finished_at: now(),
            error: 'Service web did not become healthy within 60s',
          });
        } else {
          addLine(d, 'system', 'All services healthy');
          version.last_deployed_at = now();
          setDep(d, { status: 'succeeded', finished_at: now() });
        }
      };
      tick();
    });
    return d;
  };

  const createStack = (body: Json): Json => {
    const s: Json = {
      id: `st_${randomUUID().slice(0, 8)}`,
      status: 'idle',
      auto_deploy: false,
      auto_rollback: true,
      reconcile_interval_seconds: 0,
      compose_variables: {},
      service_filter: [],
      compose_includes: [],
      last_deployment: null,
      current_version_id: null,
      deployed_commit: null,
      created_at: now(),
      updated_at: now(),
      ...body,
    };
    stacks.set(s.id as string, s);
    broadcast({ type: 'stack', stack: publicStack(s) });
    return s;
  };

  if (opts.seed !== false) {
    const a = createStack({
      name: 'blog',
      compose: 'services:\n  web:\n    image: nginx:1.27-alpine\n',
    });
    const b = createStack({
      name: 'shop',
      repo_url: 'https://git.example.com/acme/shop.git',
      repo_branch: 'main',
      reconcile_interval_seconds: 60,
      repo_token: 'x',
      poll: { last_poll_at: now(), last_error: null, failures: 0 },
    });
    createStack({
      name: 'metrics',
      repo_url: 'https://git.example.com/acme/metrics.git',
      reconcile_interval_seconds: 300,
      poll: {
        last_poll_at: new Date(Date.now() - 600_000).toISOString(),
        last_error: 'authentication required: check the repository token',
        failures: 3,
      },
    });
    startDeploy(a, 'manual');
    startDeploy(b, 'webhook');
  }

  const send = (res: ServerResponse, status: number, body?: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
  };
  const fail = (res: ServerResponse, status: number, code: string, message: string) =>
    send(res, status, { error: { code, message, details: {} } });
  const authed = (req: IncomingMessage, url: URL) => {
    const h = req.headers['x-api-key'] ?? req.headers.authorization?.replace(/^Bearer /, '');
    return h === key || url.searchParams.get('token') === key;
  };
  const readBody = (req: IncomingMessage) =>
    new Promise<Json>((resolve) => {
      let raw = '';
      req.on('data', (c) => {
        raw += c;
      });
      req.on('end', () => {
        try {
          resolve(raw ? JSON.parse(raw) : {});
        } catch {
          resolve({});
        }
      });
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const p = url.pathname;
    const m = req.method ?? 'GET';
    if (!p.startsWith('/api/')) return serveStatic(p, res);
    if (!authed(req, url)) return fail(res, 401, 'UNAUTHORIZED', 'A valid API key is required.');
    const parts = p.split('/').slice(3).map(decodeURIComponent);
    if (parts[0] === 'stacks' && parts.length === 1) {
      if (m === 'GET') {
        const list = [...stacks.values()].sort((x, y) =>
          String(x.name).localeCompare(String(y.name)),
        );
        return send(res, 200, { stacks: list.map(publicStack) });
      }
      const body = await readBody(req);
      if (!/^[a-z0-9][a-z0-9_-]{0,62}$/.test(String(body.name ?? ''))) {
        return send(res, 400, {
          error: {
            code: 'VALIDATION',
            message: 'name must match ^[a-z0-9][a-z0-9_-]{0,62}$',
            details: { fields: { name: 'Use lowercase letters, digits, - and _.' } },
          },
        });
      }
      if (find(String(body.name)))
        return fail(res, 409, 'CONFLICT', `A stack named ${body.name} already exists.`);
      return send(res, 201, { stack: publicStack(createStack(body)) });
    }
    if (parts[0] === 'deployments' && parts[1]) {
      const d = deployments.get(parts[1]);
      if (!d) return fail(res, 404, 'NOT_FOUND', 'No such deployment.');
      if (parts[2] === 'cancel') {
        if (!['queued', 'running'].includes(d.status)) {
          return fail(res, 409, 'CONFLICT', 'This deployment has already ended.');
        }
        addLine(d, 'system', 'Canceled by request');
        setDep(d, { status: 'canceled', finished_at: now(), error: 'Canceled by request' });
        return send(res, 202, { deployment: publicDep(d) });
      }
      return send(res, 200, { deployment: d });
    }
    if (parts[0] !== 'stacks' || !parts[1]) return fail(res, 404, 'NOT_FOUND', 'No such route.');
    const s = find(parts[1]);
    if (!s) return fail(res, 404, 'NOT_FOUND', `No stack named ${parts[1]}.`);
    const id = s.id as string;
    const sub = parts[2];
    const deps = () =>
      [...deployments.values()]
        .filter((d) => d.stack_id === id)
        .sort((x, y) => String(y.queued_at).localeCompare(String(x.queued_at)));
    if (!sub) {
      if (m === 'GET') return send(res, 200, { stack: publicStack(s) });
      if (m === 'DELETE') {
        stacks.delete(id);
        broadcast({ type: 'stack_deleted', stack_id: id });
        return send(res, 202, {});
      }
      Object.assign(s, await readBody(req), { updated_at: now() });
      broadcast({ type: 'stack', stack: publicStack(s) });
      return send(res, 200, { stack: publicStack(s) });
    }
    switch (sub) {
      case 'deploy': {
        const queued = deps().find((d) => d.status === 'queued');
        if (queued) return send(res, 202, { deployment: publicDep(queued), coalesced: true });
        return send(res, 202, {
          deployment: publicDep(startDeploy(s, 'manual')),
          coalesced: false,
        });
      }
      case 'cancel': {
        const d = deps().find((x) => ['queued', 'running'].includes(x.status));
        if (!d) return fail(res, 409, 'CONFLICT', 'Nothing is running for this stack.');
        setDep(d, { status: 'canceled', finished_at: now(), error: 'Canceled by request' });
        return send(res, 202, { deployment: publicDep(d) });
      }
      case 'rollback': {
        const body = await readBody(req);
        const list = versions.get(id) ?? [];
        const target = body.version_id ? list.find((v) => v.id === body.version_id) : list[1];
        if (!target)
          return fail(res, 409, 'CONFLICT', 'There is no earlier version to roll back to.');
        return send(res, 202, {
          deployment: publicDep(startDeploy(s, 'rollback', target.id as string)),
        });
      }
      case 'deployments':
        return send(res, 200, { deployments: deps().map(publicDep) });
      case 'versions': {
        const list = versions.get(id) ?? [];
        if (parts[3]) {
          const v = list.find((x) => x.id === parts[3]);
          return v
            ? send(res, 200, { version: v })
            : fail(res, 404, 'NOT_FOUND', 'No such version.');
        }
        return send(res, 200, {
          versions: list.map(({ files, variables, ...v }) => v),
        });
      }
      case 'services':
        return send(res, 200, {
          services: s.current_version_id
            ? [
                {
                  service: 'web',
                  container: `simpledeploy-${s.name}-web-1`,
                  image: 'nginx:1.27-alpine',
                  state: 'running',
                  health: 'healthy',
                },
              ]
            : [],
        });
      case 'drift':
        return send(res, 200, {
          in_sync: !s.repo_url,
          git: s.repo_url
            ? { deployed_commit: 'a1b2c3d4e5', remote_commit: 'f6e5d4c3b2', behind: true }
            : null,
          services: [],
        });
      case 'stats': {
        const all = deps();
        return send(res, 200, {
          deployments_total: all.length,
          succeeded: all.filter((d) => d.status === 'succeeded').length,
          failed: all.filter((d) => d.status === 'failed').length,
          canceled: all.filter((d) => d.status === 'canceled').length,
          last_deployed_at: all[0]?.finished_at ?? null,
          last_status: all[0]?.status ?? null,
          mean_duration_ms: 2400,
        });
      }
      case 'control': {
        const body = await readBody(req);
        if (!['start', 'stop', 'restart', 'pull', 'down'].includes(String(body.command))) {
          return fail(
            res,
            400,
            'VALIDATION',
            'command must be start, stop, restart, pull or down.',
          );
        }
        return send(res, 202, { event: { command: body.command, at: now() } });
      }
      default:
        return fail(res, 404, 'NOT_FOUND', 'No such route.');
    }
  };

  const serveStatic = (p: string, res: ServerResponse) => {
    const file = normalize(join(DIST, p === '/' ? 'index.html' : p));
    const target = file.startsWith(DIST) && existsSync(file) ? file : join(DIST, 'index.html');
    if (!existsSync(target)) return fail(res, 404, 'NOT_FOUND', 'Build the UI first.');
    res.writeHead(200, { 'content-type': MIME[extname(target)] ?? 'application/octet-stream' });
    res.end(readFileSync(target));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => fail(res, 500, 'INTERNAL', 'Something went wrong.'));
  });
  server.on('upgrade', (req, socket) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!authed(req, url)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\n\r\n');
      return;
    }
    const accept = createHash('sha1')
      .update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
    socket.on('error', () => {});
    // Client frames are only close frames here: answer by closing.
    socket.on('data', (buf: Buffer) => {
      if ((buf[0]! & 0x0f) === 8) wsClose(socket);
    });
    const logMatch = url.pathname.match(/^\/api\/v1\/deployments\/([^/]+)\/logs\/ws$/);
    if (url.pathname === '/api/v1/events/ws' && opts.eventsWs !== false) {
      eventSockets.add(socket);
      socket.on('close', () => eventSockets.delete(socket));
    } else if (logMatch) {
      const d = deployments.get(decodeURIComponent(logMatch[1]!));
      if (!d) return wsClose(socket);
      for (const line of d.log) wsSend(socket, { type: 'line', ...line });
      if (!['queued', 'running'].includes(d.status)) {
        wsSend(socket, { type: 'end', status: d.status });
        return wsClose(socket);
      }
      const set = logSockets.get(d.id) ?? new Set();
      set.add(socket);
      logSockets.set(d.id, set);
      socket.on('close', () => set.delete(socket));
    } else wsClose(socket);
  });

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const addr = server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    server,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of eventSockets) s.destroy();
      for (const set of logSockets.values()) for (const s of set) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function wsSend(socket: Duplex, msg: unknown): void {
  const payload = Buffer.from(JSON.stringify(msg));
  const len = payload.length;
  const head =
    len < 126
      ? Buffer.from([0x81, len])
      : len < 65_536
        ? Buffer.from([0x81, 126, len >> 8, len & 0xff])
        : Buffer.concat([Buffer.from([0x81, 127]), bigLen(len)]);
  if (!socket.destroyed) socket.write(Buffer.concat([head, payload]));
}

function bigLen(len: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(len));
  return b;
}

function wsClose(socket: Duplex): void {
  if (socket.destroyed) return;
  socket.write(Buffer.from([0x88, 0]));
  socket.end();
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const api = await startFakeApi({
    port: Number(process.argv[2] ?? 8787),
    key: process.env.FAKE_API_KEY,
  });
  console.log(`fake simpledeploy API and UI on ${api.url}`);
}
