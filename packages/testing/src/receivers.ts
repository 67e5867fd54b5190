import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { SMTPServer } from 'smtp-server';
import { getFreePort } from './net.js';

// Real local receivers for notification tests: an HTTP server that records what it is
// sent (standing in for a webhook endpoint, Slack, Discord or ntfy) and an SMTP server,
// both on 127.0.0.1. The *Problems functions check a request against the format each
// service documents; they return every problem found, [] when it is right.

export interface ReceivedRequest {
  method: string;
  path: string;
  /** Lower-case names. */
  headers: Record<string, string>;
  /** The raw body, exactly as sent (signatures are over it). */
  body: string;
}

export interface HttpReceiver {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  /** The status answered to the next requests (200 unless set). */
  answer: number;
  /** Closes the listener: senders get connection refused until up(). */
  down(): Promise<void>;
  /** Listens again on the same port. */
  up(): Promise<void>;
  /** Resolves once `count` requests came, or throws after `ms`. */
  waitFor(count: number, ms: number): Promise<ReceivedRequest[]>;
  close(): Promise<void>;
}

const readBody = (req: IncomingMessage) =>
  new Promise<string>((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });

export async function startHttpReceiver(): Promise<HttpReceiver> {
  const port = await getFreePort();
  const requests: ReceivedRequest[] = [];
  let server: Server | undefined;
  const receiver: HttpReceiver = {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    answer: 200,
    async up() {
      if (server) return;
      const s = createServer(async (req, res) => {
        const body = await readBody(req);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(req.headers)) {
          if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
        }
        requests.push({ method: req.method ?? '', path: req.url ?? '', headers, body });
        res.writeHead(receiver.answer, { 'content-type': 'text/plain' });
        res.end(receiver.answer < 300 ? 'ok' : 'no');
      });
      await new Promise<void>((resolve, reject) => {
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve());
      });
      server = s;
    },
    async down() {
      const s = server;
      server = undefined;
      if (!s) return;
      s.closeAllConnections();
      await new Promise<void>((resolve) => s.close(() => resolve()));
    },
    async waitFor(count, ms) {
      const end = Date.now() + ms;
      while (requests.length < count) {
        if (Date.now() > end)
          throw new Error(
            `the receiver got ${requests.length} requests, not ${count}, in ${ms} ms`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
      return requests;
    },
    close: () => receiver.down(),
  };
  await receiver.up();
  return receiver;
}

export interface ReceivedMail {
  /** The authenticated user, if the client logged in. */
  user: string | undefined;
  from: string;
  to: string[];
  /** The message as sent (headers and body). */
  raw: string;
  subject: string;
  /** The text body, quoted-printable decoded. */
  text: string;
}

export interface SmtpReceiver {
  port: number;
  /** `smtp://user:password@127.0.0.1:<port>` */
  url: string;
  messages: ReceivedMail[];
  waitFor(count: number, ms: number): Promise<ReceivedMail[]>;
  close(): Promise<void>;
}

/** Undoes quoted-printable soft breaks and =XX escapes (nodemailer's choice for long lines). */
function decodeQuotedPrintable(s: string): string {
  const bytes = s
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(Number.parseInt(h, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

function parseMail(raw: string): { subject: string; text: string } {
  const split = raw.indexOf('\r\n\r\n');
  const head = raw.slice(0, split).replace(/\r\n[ \t]+/g, ' ');
  const body = raw.slice(split + 4);
  const header = (name: string) =>
    head
      .split('\r\n')
      .find((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`))
      ?.slice(name.length + 1)
      .trim() ?? '';
  const qp = /quoted-printable/i.test(header('Content-Transfer-Encoding'));
  return { subject: header('Subject'), text: qp ? decodeQuotedPrintable(body) : body };
}

/**
 * An SMTP server that requires AUTH with these credentials (plain text on 127.0.0.1:
 * STARTTLS is off) and keeps every message it accepts.
 */
export async function startSmtpReceiver(creds: {
  username: string;
  password: string;
}): Promise<SmtpReceiver> {
  const port = await getFreePort();
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    secure: false,
    disabledCommands: ['STARTTLS'],
    allowInsecureAuth: true,
    authMethods: ['PLAIN', 'LOGIN'],
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === creds.username && auth.password === creds.password) {
        callback(null, { user: auth.username });
      } else {
        callback(new Error('Invalid username or password'));
      }
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        messages.push({
          user: session.user as string | undefined,
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
          ...parseMail(raw),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port,
    url: `smtp://${encodeURIComponent(creds.username)}:${encodeURIComponent(creds.password)}@127.0.0.1:${port}`,
    messages,
    async waitFor(count, ms) {
      const end = Date.now() + ms;
      while (messages.length < count) {
        if (Date.now() > end)
          throw new Error(
            `the SMTP server got ${messages.length} messages, not ${count}, in ${ms} ms`,
          );
        await new Promise((r) => setTimeout(r, 25));
      }
      return messages;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** simpledeploy's webhook: `X-Simpledeploy-Signature: sha256=<hex HMAC-SHA256 of the raw body>`. */
export function webhookSignatureValid(req: ReceivedRequest, secret: string): boolean {
  const got = req.headers['x-simpledeploy-signature'] ?? '';
  const want = `sha256=${createHmac('sha256', secret).update(req.body).digest('hex')}`;
  return got.length === want.length && timingSafeEqual(Buffer.from(got), Buffer.from(want));
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);
const len = (v: unknown) => (typeof v === 'string' ? [...v].length : 0);

function parseJson(req: ReceivedRequest, problems: string[]): unknown {
  if (!/^application\/json/.test(req.headers['content-type'] ?? ''))
    problems.push(`content-type is ${req.headers['content-type']}, not application/json`);
  try {
    return JSON.parse(req.body);
  } catch {
    problems.push('the body is not JSON');
    return undefined;
  }
}

/**
 * Slack incoming webhooks (api.slack.com/messaging/webhooks, Block Kit reference): a POST
 * of JSON with `text` (the notification fallback when there are blocks); at most 50
 * blocks; a header's plain_text at most 150 characters, a section's text at most 3000,
 * a context at most 10 elements; text objects are plain_text or mrkdwn.
 */
export function slackPayloadProblems(req: ReceivedRequest): string[] {
  const problems: string[] = [];
  if (req.method !== 'POST') problems.push(`method ${req.method}`);
  const p = parseJson(req, problems);
  if (!isObject(p)) return [...problems, 'the body is not an object'];
  if (typeof p.text !== 'string' || p.text === '') problems.push('text is missing');
  if (len(p.text) > 40_000) problems.push('text is over 40000 characters');
  const blocks = p.blocks;
  if (blocks === undefined) return problems;
  if (!Array.isArray(blocks)) return [...problems, 'blocks is not an array'];
  if (blocks.length > 50) problems.push('more than 50 blocks');
  const textObject = (t: unknown, max: number, where: string, plainOnly = false): void => {
    if (!isObject(t)) {
      problems.push(`${where}: no text object`);
      return;
    }
    if (t.type !== 'plain_text' && (plainOnly || t.type !== 'mrkdwn'))
      problems.push(`${where}: text type ${String(t.type)}`);
    if (typeof t.text !== 'string' || t.text === '') problems.push(`${where}: empty text`);
    if (len(t.text) > max) problems.push(`${where}: text over ${max} characters`);
  };
  for (const [i, b] of blocks.entries()) {
    if (!isObject(b)) {
      problems.push(`block ${i} is not an object`);
    } else if (b.type === 'header') {
      textObject(b.text, 150, `block ${i} (header)`, true);
    } else if (b.type === 'section') {
      textObject(b.text, 3000, `block ${i} (section)`);
    } else if (b.type === 'context') {
      if (!Array.isArray(b.elements) || b.elements.length === 0 || b.elements.length > 10)
        problems.push(`block ${i} (context): 1-10 elements`);
      else
        for (const [j, e] of b.elements.entries()) textObject(e, 3000, `block ${i} element ${j}`);
    } else if (b.type !== 'divider') {
      problems.push(`block ${i}: unexpected type ${String(b.type)}`);
    }
  }
  return problems;
}

/**
 * Discord's Execute Webhook (discord.com/developers/docs/resources/webhook, embed limits):
 * JSON with `content` (at most 2000) and/or `embeds` (at most 10); an embed's title at
 * most 256, description 4096, at most 25 fields of name 256 and value 1024 (both
 * non-empty), footer text 2048, all its text at most 6000; color an integer; timestamp
 * ISO 8601.
 */
export function discordPayloadProblems(req: ReceivedRequest): string[] {
  const problems: string[] = [];
  if (req.method !== 'POST') problems.push(`method ${req.method}`);
  const p = parseJson(req, problems);
  if (!isObject(p)) return [...problems, 'the body is not an object'];
  if (p.content === undefined && p.embeds === undefined)
    problems.push('neither content nor embeds');
  if (p.content !== undefined && (typeof p.content !== 'string' || len(p.content) > 2000))
    problems.push('content is not a string of at most 2000 characters');
  if (p.embeds === undefined) return problems;
  if (!Array.isArray(p.embeds) || p.embeds.length > 10)
    return [...problems, 'embeds is not an array of at most 10'];
  for (const [i, e] of p.embeds.entries()) {
    if (!isObject(e)) {
      problems.push(`embed ${i} is not an object`);
      continue;
    }
    let total = 0;
    const text = (v: unknown, max: number, where: string): void => {
      if (v === undefined) return;
      if (typeof v !== 'string') {
        problems.push(`embed ${i} ${where} is not a string`);
        return;
      }
      if (len(v) > max) problems.push(`embed ${i} ${where} is over ${max} characters`);
      total += len(v);
    };
    text(e.title, 256, 'title');
    text(e.description, 4096, 'description');
    if (e.color !== undefined && !Number.isInteger(e.color)) problems.push(`embed ${i} color`);
    if (e.timestamp !== undefined && Number.isNaN(Date.parse(String(e.timestamp))))
      problems.push(`embed ${i} timestamp is not ISO 8601`);
    if (e.footer !== undefined) {
      if (!isObject(e.footer)) problems.push(`embed ${i} footer is not an object`);
      else text(e.footer.text, 2048, 'footer.text');
    }
    if (e.fields !== undefined) {
      if (!Array.isArray(e.fields) || e.fields.length > 25) {
        problems.push(`embed ${i} fields: at most 25`);
      } else {
        for (const [j, f] of e.fields.entries()) {
          if (!isObject(f)) {
            problems.push(`embed ${i} field ${j} is not an object`);
            continue;
          }
          if (!f.name || !f.value) problems.push(`embed ${i} field ${j}: empty name or value`);
          text(f.name, 256, `field ${j} name`);
          text(f.value, 1024, `field ${j} value`);
          if (f.inline !== undefined && typeof f.inline !== 'boolean')
            problems.push(`embed ${i} field ${j} inline`);
        }
      }
    }
    if (total > 6000) problems.push(`embed ${i}: over 6000 characters in all`);
  }
  return problems;
}

const NTFY_PRIORITIES = new Set([
  '1',
  '2',
  '3',
  '4',
  '5',
  'min',
  'low',
  'default',
  'high',
  'max',
  'urgent',
]);

/**
 * ntfy publishing (docs.ntfy.sh/publish): a POST or PUT to the topic URL whose body is
 * the message (at most 4096 bytes, or it becomes an attachment); Title, Priority (1-5
 * or min/low/default/high/max) and Tags (comma separated) as headers (or their X- and
 * short forms); an access token as `Authorization: Bearer`.
 */
export function ntfyRequestProblems(req: ReceivedRequest, token?: string): string[] {
  const problems: string[] = [];
  const h = (...names: string[]) => names.map((n) => req.headers[n]).find((v) => v !== undefined);
  if (req.method !== 'POST' && req.method !== 'PUT') problems.push(`method ${req.method}`);
  if (req.body === '') problems.push('the message (body) is empty');
  if (Buffer.byteLength(req.body) > 4096) problems.push('the body is over 4096 bytes');
  const title = h('x-title', 'title', 'ti', 't');
  if (!title) problems.push('no Title header');
  const priority = h('x-priority', 'priority', 'prio', 'p');
  if (priority !== undefined && !NTFY_PRIORITIES.has(priority))
    problems.push(`priority ${priority} is not 1-5 or a priority name`);
  const tags = h('x-tags', 'tags', 'tag', 'ta');
  if (tags?.split(',').some((t) => t.trim() === '')) problems.push('tags has an empty tag');
  if (token !== undefined && req.headers.authorization !== `Bearer ${token}`)
    problems.push('no Authorization: Bearer <token>');
  return problems;
}
