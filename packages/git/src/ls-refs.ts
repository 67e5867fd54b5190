import { type GitErrorContext, gitError, toGitError } from './errors';
import { DELIM_PKT, FLUSH_PKT, type Pkt, PktLineError, parsePktLines, pktLine } from './pkt-line';
import { type RefListingHttp, type SmallHttp, type SmallResponse, smallOver } from './small-http';

/** One ref of a remote, as `git ls-remote` shows it. */
export interface RemoteRef {
  ref: string;
  oid: string;
  /** The ref a symbolic ref (HEAD) points at. */
  target?: string;
  /** The commit an annotated tag points at. */
  peeled?: string;
}

export interface ListRefsRequest {
  /** Refs whose names start with one of these (`refs/heads/main`, `HEAD`). */
  prefixes: string[];
  /** Headers for every request (Authorization, sent without waiting for a 401). */
  headers?: Record<string, string>;
  ctx: GitErrorContext;
}

/** What a repository URL was last seen to speak, so a poll skips the discovery request. */
export type ProtocolMemo = Map<string, 'v2' | 'v0'>;

const USER_AGENT = 'git/simpledeploy';
const ADVERTISEMENT = 'application/x-git-upload-pack-advertisement';
/** Remembered protocols, at most: repositories beyond it are discovered again. */
const MEMO_LIMIT = 10_000;

/**
 * Lists a remote's refs over smart HTTP with as little work as the protocol allows.
 * With protocol v2 one `ls-refs` request carries a `ref-prefix` per wanted name, so the
 * server sends only those refs; once a URL is known to speak v2 the discovery GET
 * (`/info/refs`) is skipped and a poll is a single POST. A server that answers the
 * discovery with a v0 advertisement gets its refs read from that answer (filtered
 * here). Nothing else is done with the answer: no repository object, no clone.
 */
export async function listRemoteRefs(
  transport: RefListingHttp,
  url: string,
  request: ListRefsRequest,
  memo?: ProtocolMemo,
): Promise<RemoteRef[]> {
  const http = transport.small ?? smallOver(transport);
  if (memo?.get(url) === 'v2') {
    try {
      return await lsRefs(http, url, request);
    } catch (error) {
      // A server that stopped speaking v2 (or moved) gets one fresh discovery.
      if (isDefinite(error, request.ctx)) throw error;
      memo.delete(url);
    }
  }
  const res = await send(http, `${url}/info/refs?service=git-upload-pack`, 'GET', request);
  const type = res.headers['content-type'];
  if (typeof type !== 'string' || !type.startsWith(ADVERTISEMENT)) throw notGit(request.ctx);
  const pkts = parse(res.body, request.ctx);
  let at = 0;
  // Smart HTTP may open with `# service=git-upload-pack` and a flush.
  const first = pkts[0];
  if (first?.kind === 'data' && first.line.startsWith('# service=')) {
    at = pkts[1]?.kind === 'flush' ? 2 : 1;
  }
  const head = pkts[at];
  if (head?.kind === 'data' && head.line === 'version 2') {
    remember(memo, url, 'v2');
    return lsRefs(http, url, request);
  }
  remember(memo, url, 'v0');
  return fromAdvertisement(pkts.slice(at), request.prefixes);
}

function remember(memo: ProtocolMemo | undefined, url: string, protocol: 'v2' | 'v0') {
  if (!memo) return;
  if (memo.size >= MEMO_LIMIT && !memo.has(url)) memo.clear();
  memo.set(url, protocol);
}

/** Failures a fresh discovery would not cure: credentials, a missing repository, a limit, the network. */
function isDefinite(error: unknown, ctx: GitErrorContext): boolean {
  const e = toGitError(error, ctx);
  const reason = (e.details as { reason?: string } | undefined)?.reason;
  return reason !== 'not_git' && reason !== 'failed' && reason !== 'server_error';
}

/** ls-refs request bodies by their prefixes: a poller sends the same few bodies every interval. */
const bodies = new Map<string, Buffer>();
/** Distinct bodies kept, at most (one per branch name polled). */
const BODIES_LIMIT = 1000;

function lsRefsBody(prefixes: string[]): Buffer {
  const key = prefixes.join('\n');
  let body = bodies.get(key);
  if (body) return body;
  body = Buffer.concat([
    pktLine('command=ls-refs\n'),
    pktLine(`agent=${USER_AGENT}\n`),
    DELIM_PKT,
    pktLine('peel\n'),
    pktLine('symrefs\n'),
    ...prefixes.map((p) => pktLine(`ref-prefix ${p}\n`)),
    FLUSH_PKT,
  ]);
  if (bodies.size >= BODIES_LIMIT) bodies.clear();
  bodies.set(key, body);
  return body;
}

async function lsRefs(http: SmallHttp, url: string, request: ListRefsRequest) {
  const body = lsRefsBody(request.prefixes);
  const res = await send(http, `${url}/git-upload-pack`, 'POST', request, body);
  const answer = parse(res.body, request.ctx);
  const refs: RemoteRef[] = [];
  for (const pkt of answer) {
    if (pkt.kind !== 'data') break;
    if (pkt.line.startsWith('ERR ')) throw serverSaid(pkt.line.slice(4), request.ctx);
    // `<oid> <name>[ symref-target:<ref>][ peeled:<oid>]`
    const [oid, ref, ...attrs] = pkt.line.split(' ');
    if (!oid || !ref || !/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid)) throw notGit(request.ctx);
    const out: RemoteRef = { ref, oid };
    for (const attr of attrs) {
      if (attr.startsWith('symref-target:')) out.target = attr.slice('symref-target:'.length);
      else if (attr.startsWith('peeled:')) out.peeled = attr.slice('peeled:'.length);
    }
    refs.push(out);
  }
  return refs;
}

/** Refs from a v0 advertisement: `<oid> <name>\0<caps>` first, `<name>^{}` lines for peeled tags. */
function fromAdvertisement(pkts: Pkt[], prefixes: string[]): RemoteRef[] {
  const byName = new Map<string, RemoteRef>();
  let symrefs: string[] = [];
  for (const pkt of pkts) {
    if (pkt.kind !== 'data') continue;
    let line = pkt.line;
    const nul = line.indexOf('\0');
    if (nul !== -1) {
      symrefs = line
        .slice(nul + 1)
        .split(' ')
        .filter((c) => c.startsWith('symref='))
        .map((c) => c.slice('symref='.length));
      line = line.slice(0, nul);
    }
    const space = line.indexOf(' ');
    if (space === -1) continue;
    const oid = line.slice(0, space);
    const name = line.slice(space + 1);
    if (name === 'capabilities^{}') continue;
    if (name.endsWith('^{}')) {
      const tag = byName.get(name.slice(0, -3));
      if (tag) tag.peeled = oid;
      continue;
    }
    byName.set(name, { ref: name, oid });
  }
  for (const symref of symrefs) {
    const [from, to] = symref.split(':');
    const ref = from ? byName.get(from) : undefined;
    if (ref && to) ref.target = to;
  }
  return [...byName.values()].filter((r) => prefixes.some((p) => r.ref.startsWith(p)));
}

async function send(
  http: SmallHttp,
  url: string,
  method: 'GET' | 'POST',
  request: ListRefsRequest,
  body?: Buffer,
): Promise<SmallResponse> {
  const headers: Record<string, string> = {
    'user-agent': USER_AGENT,
    'git-protocol': 'version=2',
    ...request.headers,
  };
  if (body) {
    headers['content-type'] = 'application/x-git-upload-pack-request';
    headers.accept = 'application/x-git-upload-pack-result';
  }
  let res: SmallResponse;
  try {
    res = await http({ url, method, headers, body });
  } catch (error) {
    throw toGitError(error, request.ctx);
  }
  if (res.statusCode !== 200) {
    throw toGitError(
      { code: 'HttpError', data: { statusCode: res.statusCode, statusMessage: res.statusMessage } },
      request.ctx,
    );
  }
  return res;
}

function parse(body: Buffer, ctx: GitErrorContext): Pkt[] {
  try {
    return parsePktLines(body);
  } catch (error) {
    if (error instanceof PktLineError) throw notGit(ctx);
    throw error;
  }
}

const notGit = (ctx: GitErrorContext) =>
  toGitError({ code: 'SmartHttpError', message: 'not a smart HTTP answer' }, ctx);

const serverSaid = (message: string, ctx: GitErrorContext) =>
  gitError(
    'VALIDATION',
    'failed',
    `the git server refused to list refs of ${ctx.url}: ${message}`,
    ctx,
  );
