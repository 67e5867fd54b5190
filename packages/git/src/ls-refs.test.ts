import { AppError, createRedactor } from '@simpledeploy/core';
import type { GitHttpRequest, GitHttpResponse, HttpClient } from 'isomorphic-git';
import { describe, expect, it } from 'vitest';
import { listRemoteRefs, type ProtocolMemo } from './ls-refs';
import { FLUSH_PKT, pktLine } from './pkt-line';

const REPO = 'https://git.example.com/acme/app.git';
const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const C = 'c'.repeat(40);
const ctx = { url: REPO, hasCredentials: true, redact: createRedactor(['s3cret']) };
const ADVERTISEMENT = 'application/x-git-upload-pack-advertisement';

const pkts = (...lines: (string | null)[]) =>
  Buffer.concat(lines.map((l) => (l === null ? FLUSH_PKT : pktLine(`${l}\n`))));

const V2_CAPS = pkts('# service=git-upload-pack', null, 'version 2', 'ls-refs=unborn', null);

interface Answer {
  status?: number;
  type?: string;
  body: Buffer | string;
}

/** A git server that answers from a script keyed by method and path, recording requests. */
function fakeServer(answers: Record<string, Answer>) {
  const sent: { method: string; path: string; headers: Record<string, string>; body: string }[] =
    [];
  const http: HttpClient = {
    async request(req: GitHttpRequest): Promise<GitHttpResponse> {
      const body = req.body
        ? Buffer.concat(req.body as unknown as Uint8Array[]).toString('utf8')
        : '';
      const path = req.url.slice(REPO.length);
      const method = req.method ?? 'GET';
      sent.push({ method, path, headers: { ...req.headers }, body });
      const answer = answers[`${method} ${path}`] ?? { status: 404, body: 'not found' };
      return {
        url: req.url,
        statusCode: answer.status ?? 200,
        statusMessage: 'x',
        headers: { 'content-type': answer.type ?? 'application/x-git-upload-pack-result' },
        body: (async function* () {
          yield Buffer.from(answer.body);
        })(),
      };
    },
  };
  return { http, sent };
}

const list = (http: HttpClient, prefixes: string[], memo?: ProtocolMemo) =>
  listRemoteRefs(http, REPO, { prefixes, headers: { authorization: 'Basic s3cret' }, ctx }, memo);

describe('listRemoteRefs over protocol v2', () => {
  const v2 = () =>
    fakeServer({
      'GET /info/refs?service=git-upload-pack': { type: ADVERTISEMENT, body: V2_CAPS },
      'POST /git-upload-pack': {
        body: pkts(`${A} refs/heads/main`, `${B} refs/tags/main peeled:${C}`, null),
      },
    });

  it('sends ls-refs with one ref-prefix per name, peel and symrefs, and the credentials', async () => {
    const { http, sent } = v2();
    const refs = await list(http, ['refs/heads/main', 'refs/tags/main']);
    expect(refs).toEqual([
      { ref: 'refs/heads/main', oid: A },
      { ref: 'refs/tags/main', oid: B, peeled: C },
    ]);
    expect(sent.map((r) => `${r.method} ${r.path}`)).toEqual([
      'GET /info/refs?service=git-upload-pack',
      'POST /git-upload-pack',
    ]);
    const post = sent[1];
    expect(post?.headers).toMatchObject({
      'git-protocol': 'version=2',
      'content-type': 'application/x-git-upload-pack-request',
      authorization: 'Basic s3cret',
    });
    expect(post?.body).toBe(
      [
        '0014command=ls-refs\n',
        '001bagent=git/simpledeploy\n',
        '0001',
        '0009peel\n',
        '000csymrefs\n',
        '001fref-prefix refs/heads/main\n',
        '001eref-prefix refs/tags/main\n',
        '0000',
      ].join(''),
    );
  });

  it('skips the discovery request once the repository is known to speak v2', async () => {
    const { http, sent } = v2();
    const memo: ProtocolMemo = new Map();
    await list(http, ['refs/heads/main'], memo);
    await list(http, ['refs/heads/main'], memo);
    await list(http, ['refs/heads/main'], memo);
    expect(sent.map((r) => r.method)).toEqual(['GET', 'POST', 'POST', 'POST']);
  });

  it('discovers again when a remembered v2 server stops answering ls-refs', async () => {
    const memo: ProtocolMemo = new Map([[REPO, 'v2']]);
    const { http, sent } = fakeServer({
      'POST /git-upload-pack': { status: 400, body: 'bad request' },
      'GET /info/refs?service=git-upload-pack': {
        type: ADVERTISEMENT,
        body: pkts('# service=git-upload-pack', null, `${A} refs/heads/main\0agent=x`, null),
      },
    });
    expect(await list(http, ['refs/heads/main'], memo)).toEqual([
      { ref: 'refs/heads/main', oid: A },
    ]);
    expect(sent.map((r) => r.method)).toEqual(['POST', 'GET']);
    expect(memo.get(REPO)).toBe('v0');
  });

  it('reads HEAD with the branch it points at', async () => {
    const { http } = fakeServer({
      'GET /info/refs?service=git-upload-pack': { type: ADVERTISEMENT, body: V2_CAPS },
      'POST /git-upload-pack': { body: pkts(`${A} HEAD symref-target:refs/heads/trunk`, null) },
    });
    expect(await list(http, ['HEAD'])).toEqual([
      { ref: 'HEAD', oid: A, target: 'refs/heads/trunk' },
    ]);
  });

  it("turns the server's ERR line into an error with its message", async () => {
    const { http } = fakeServer({
      'GET /info/refs?service=git-upload-pack': { type: ADVERTISEMENT, body: V2_CAPS },
      'POST /git-upload-pack': { body: pkts('ERR upload-pack: not our ref') },
    });
    await expect(list(http, ['HEAD'])).rejects.toThrow(/refused to list refs.*not our ref/);
  });
});

describe('listRemoteRefs over a v0 server', () => {
  it('reads the refs from the advertisement, filtered by prefix, tags peeled, HEAD with its target', async () => {
    const { http, sent } = fakeServer({
      'GET /info/refs?service=git-upload-pack': {
        type: ADVERTISEMENT,
        body: pkts(
          '# service=git-upload-pack',
          null,
          `${A} HEAD\0multi_ack symref=HEAD:refs/heads/main agent=git/2.0`,
          `${A} refs/heads/main`,
          `${C} refs/heads/main-old`,
          `${B} refs/tags/v1`,
          `${C} refs/tags/v1^{}`,
          null,
        ),
      },
    });
    const memo: ProtocolMemo = new Map();
    expect(await list(http, ['HEAD'], memo)).toEqual([
      { ref: 'HEAD', oid: A, target: 'refs/heads/main' },
    ]);
    expect(await list(http, ['refs/heads/main', 'refs/tags/v1'], memo)).toEqual([
      { ref: 'refs/heads/main', oid: A },
      { ref: 'refs/heads/main-old', oid: C },
      { ref: 'refs/tags/v1', oid: B, peeled: C },
    ]);
    // v0 has no ls-refs: one GET per listing, never a POST.
    expect(sent.map((r) => r.method)).toEqual(['GET', 'GET']);
    expect(memo.get(REPO)).toBe('v0');
  });

  it('reads an empty repository as no refs', async () => {
    const { http } = fakeServer({
      'GET /info/refs?service=git-upload-pack': {
        type: ADVERTISEMENT,
        body: pkts(`${'0'.repeat(40)} capabilities^{}\0agent=git/2`, null),
      },
    });
    expect(await list(http, ['HEAD'])).toEqual([]);
  });
});

describe('listRemoteRefs failures', () => {
  const failure = async (answer: Answer) => {
    const { http } = fakeServer({ 'GET /info/refs?service=git-upload-pack': answer });
    const error = await list(http, ['HEAD']).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AppError);
    return error as AppError;
  };

  it('says the credentials failed on 401 and 403, without them in the message', async () => {
    const e = await failure({ status: 401, body: 'no' });
    expect(e.details).toMatchObject({ reason: 'auth_failed', status: 401 });
    expect(e.message).not.toContain('s3cret');
    expect((await failure({ status: 403, body: 'no' })).details).toMatchObject({
      reason: 'auth_failed',
    });
  });

  it('says the repository is missing on 404, and that the server failed on 5xx', async () => {
    expect((await failure({ status: 404, body: 'x' })).details).toMatchObject({
      reason: 'repo_not_found',
    });
    expect((await failure({ status: 502, body: 'x' })).code).toBe('UNAVAILABLE');
  });

  it('says the URL is not a git repository when the answer is a web page', async () => {
    const html = await failure({ type: 'text/html', body: '<html></html>' });
    expect(html.details).toMatchObject({ reason: 'not_git' });
    const garbage = await failure({ type: ADVERTISEMENT, body: 'zzzz' });
    expect(garbage.details).toMatchObject({ reason: 'not_git' });
  });
});
