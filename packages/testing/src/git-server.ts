import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type RunOptions, run, runOk } from './exec.js';
import { getFreePort } from './net.js';

export interface StartGitServerOptions {
  username: string;
  password: string;
  /** Port on 127.0.0.1; a free one by default. */
  port?: number;
}

/** File path → content; `null` deletes the file in that commit. */
export type RepoFiles = Record<string, string | null>;

export interface BranchOptions {
  /** Defaults to the repository's default branch. */
  branch?: string;
}

/** A bare repository served by the test git server, changed with git plumbing. */
export interface TestRepo {
  name: string;
  /** Clone URL without credentials: `http://127.0.0.1:<port>/<name>.git` */
  url: string;
  /** The bare repository on disk. */
  path: string;
  defaultBranch: string;
  /** Commits the files (on top of the branch, or of the default branch when the branch is new) and returns the sha. */
  commit(files: RepoFiles, message?: string, options?: BranchOptions): Promise<string>;
  /** Commits the removal of one file and returns the sha. */
  removeFile(path: string, message?: string, options?: BranchOptions): Promise<string>;
  /** Points a new branch at `from` (branch, tag or sha; default branch by default) and returns its sha. */
  createBranch(name: string, from?: string): Promise<string>;
  deleteBranch(name: string): Promise<void>;
  /** The sha a branch points at (default branch by default). */
  headCommit(branch?: string): Promise<string>;
}

export interface TestGitServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  username: string;
  password: string;
  /** Directory holding the bare repositories. */
  root: string;
  /** True while it accepts connections. */
  readonly running: boolean;
  /** HTTP requests answered so far (authorized or not). */
  readonly requestCount: number;
  createRepo: GitRepoStore['createRepo'];
  openRepo: GitRepoStore['openRepo'];
  /** Stops serving (open connections are cut); repositories stay, so start() brings it back. */
  stop(): Promise<void>;
  /** Serves again on the same port after stop(). */
  start(): Promise<void>;
  /** Stops and deletes every repository. */
  close(): Promise<void>;
}

const ZERO_SHA = '0'.repeat(40);
const COMMIT_ENV = {
  GIT_AUTHOR_NAME: 'simpledeploy tests',
  GIT_AUTHOR_EMAIL: 'tests@simpledeploy.invalid',
  GIT_COMMITTER_NAME: 'simpledeploy tests',
  GIT_COMMITTER_EMAIL: 'tests@simpledeploy.invalid',
  // The machine's own git config must not change what the harness writes.
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

async function git(args: string[], options: RunOptions = {}): Promise<string> {
  const { stdout } = await runOk('git', args, {
    ...options,
    env: { ...COMMIT_ENV, ...options.env },
  });
  return stdout.trim();
}

function checkName(kind: string, name: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._/-]*$/.test(name) || name.includes('..') || name.endsWith('/')) {
    throw new Error(`invalid ${kind} name: ${name}`);
  }
}

/** Splits CGI output into headers and the start of the body, once the blank line has arrived. */
function splitCgiHeaders(buffer: Buffer): { head: string; body: Buffer } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf === -1 && lf === -1) return undefined;
  const [at, length] = crlf !== -1 && (lf === -1 || crlf < lf) ? [crlf, 4] : [lf, 2];
  return { head: buffer.subarray(0, at).toString('latin1'), body: buffer.subarray(at + length) };
}

function authorized(req: IncomingMessage, username: string, password: string): boolean {
  const header = req.headers.authorization ?? '';
  const [scheme, encoded] = header.split(' ');
  if (scheme?.toLowerCase() !== 'basic' || !encoded) return false;
  return Buffer.from(encoded, 'base64').toString('utf8') === `${username}:${password}`;
}

function repoHandle(baseUrl: string, name: string, path: string, defaultBranch: string): TestRepo {
  // One change at a time per repository, like pushes serialized by a real host.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>): Promise<T> => {
    const result = queue.then(task);
    queue = result.catch(() => {});
    return result;
  };
  const gitIn = (args: string[], opts: RunOptions = {}) => git(['-C', path, ...args], opts);
  const resolveRef = async (ref: string): Promise<string | undefined> => {
    const { stdout, exitCode } = await run(
      'git',
      ['-C', path, 'rev-parse', '--verify', '--quiet', `${ref}^{commit}`],
      { env: COMMIT_ENV },
    );
    return exitCode === 0 ? stdout.trim() : undefined;
  };

  const commit = (files: RepoFiles, message?: string, opts: BranchOptions = {}) =>
    serial(async () => {
      const branch = opts.branch ?? defaultBranch;
      checkName('branch', branch);
      const current = await resolveRef(`refs/heads/${branch}`);
      const parent = current ?? (await resolveRef(`refs/heads/${defaultBranch}`));
      const index = join(tmpdir(), `sdtest-git-index-${randomBytes(6).toString('hex')}`);
      const env = { GIT_INDEX_FILE: index };
      try {
        await gitIn(parent ? ['read-tree', parent] : ['read-tree', '--empty'], { env });
        const entries = await Promise.all(
          Object.entries(files).map(async ([file, content]) => {
            if (content === null) return `0 ${ZERO_SHA}\t${file}`;
            const sha = await gitIn(['hash-object', '-w', '--stdin'], { input: content });
            return `100644 ${sha}\t${file}`;
          }),
        );
        await gitIn(['update-index', '--index-info'], { env, input: `${entries.join('\n')}\n` });
        const tree = await gitIn(['write-tree'], { env });
        const text = message ?? `update ${Object.keys(files).join(', ')}`;
        const sha = await gitIn([
          'commit-tree',
          tree,
          ...(parent ? ['-p', parent] : []),
          '-m',
          text,
        ]);
        await gitIn(['update-ref', `refs/heads/${branch}`, sha, current ?? ZERO_SHA]);
        return sha;
      } finally {
        await rm(index, { force: true });
      }
    });

  return {
    name,
    url: `${baseUrl}/${name}.git`,
    path,
    defaultBranch,
    commit,
    removeFile: (file, message, opts) =>
      commit({ [file]: null }, message ?? `remove ${file}`, opts),
    createBranch: (branch, from = defaultBranch) =>
      serial(async () => {
        checkName('branch', branch);
        const sha = await resolveRef(from);
        if (!sha) throw new Error(`cannot branch ${branch} from ${from}: no such ref`);
        await gitIn(['update-ref', `refs/heads/${branch}`, sha, ZERO_SHA]);
        return sha;
      }),
    deleteBranch: (branch) =>
      serial(async () => {
        await gitIn(['update-ref', '-d', `refs/heads/${branch}`]);
      }),
    headCommit: async (branch = defaultBranch) => {
      const sha = await resolveRef(`refs/heads/${branch}`);
      if (!sha) throw new Error(`${name} has no branch ${branch}`);
      return sha;
    },
  };
}

export interface GitRepoStoreOptions {
  /** Directory of the bare repositories (a TestGitServer's `root`). */
  root: string;
  /** Base URL they are served under (a TestGitServer's `url`). */
  url: string;
}

/** Creates and changes repositories of a git server. */
export interface GitRepoStore {
  /** A new bare repository with one initial commit of `files` on `branch` (default `main`). */
  createRepo(name: string, files: RepoFiles, options?: BranchOptions): Promise<TestRepo>;
  /** A handle on an existing repository. */
  openRepo(name: string): Promise<TestRepo>;
}

/**
 * Works on the repositories of a git server directly on disk, so a test worker can
 * create repos and commits for the server the global setup started (see inject('gitServer')).
 */
export function gitRepoStore({ root, url }: GitRepoStoreOptions): GitRepoStore {
  return {
    async createRepo(name, files, opts = {}) {
      checkName('repository', name);
      const branch = opts.branch ?? 'main';
      checkName('branch', branch);
      const path = join(root, `${name}.git`);
      await mkdir(dirname(path), { recursive: true });
      await git(['init', '--quiet', '--bare', `--initial-branch=${branch}`, path]);
      await git(['-C', path, 'config', 'http.receivepack', 'true']);
      // Like GitHub: a fetch may ask for any commit reachable from a ref.
      await git(['-C', path, 'config', 'uploadpack.allowReachableSHA1InWant', 'true']);
      // Like GitHub: partial clones (--filter=blob:none) get trees first, blobs on demand.
      await git(['-C', path, 'config', 'uploadpack.allowFilter', 'true']);
      const repo = repoHandle(url, name, path, branch);
      await repo.commit(files, 'initial commit');
      // isomorphic-git's clone fails with "Could not find HEAD" unless HEAD names a real branch.
      await git(['-C', path, 'symbolic-ref', 'HEAD', `refs/heads/${branch}`]);
      return repo;
    },
    async openRepo(name) {
      checkName('repository', name);
      const path = join(root, `${name}.git`);
      const head = await git(['-C', path, 'symbolic-ref', 'HEAD']);
      return repoHandle(url, name, path, head.replace(/^refs\/heads\//, ''));
    },
  };
}

/**
 * Serves bare repositories over smart HTTP (git http-backend as CGI, one process per
 * request) on 127.0.0.1 with HTTP Basic auth in front, the way isomorphic-git and the
 * git CLI talk to real hosts.
 */
export async function startGitServer(options: StartGitServerOptions): Promise<TestGitServer> {
  const { username, password } = options;
  const base = await mkdtemp(join(tmpdir(), 'sdtest-git-'));
  const root = join(base, 'repos');
  await mkdir(root);
  const port = options.port ?? (await getFreePort());
  const url = `http://127.0.0.1:${port}`;
  const children = new Set<ReturnType<typeof spawn>>();
  let server: Server | undefined;
  let requestCount = 0;

  function handle(req: IncomingMessage, res: ServerResponse): void {
    requestCount++;
    if (!authorized(req, username, password)) {
      req.resume();
      res.writeHead(401, {
        'WWW-Authenticate': 'Basic realm="simpledeploy-test"',
        'Content-Type': 'text/plain',
      });
      res.end('authentication required\n');
      return;
    }
    const requestUrl = new URL(req.url ?? '/', url);
    let pathInfo: string;
    try {
      pathInfo = decodeURIComponent(requestUrl.pathname);
    } catch {
      req.resume();
      res.writeHead(400, { 'Content-Type': 'text/plain' }).end('bad path\n');
      return;
    }
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      ...COMMIT_ENV,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      PATH_INFO: pathInfo,
      QUERY_STRING: requestUrl.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: username,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    if (req.headers['content-encoding'])
      env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
    const protocol = req.headers['git-protocol'];
    if (typeof protocol === 'string') env.GIT_PROTOCOL = protocol;

    const child = spawn('git', ['http-backend'], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    let pending: Buffer | undefined = Buffer.alloc(0);
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.stdin.on('error', () => {});
    req.pipe(child.stdin);
    res.on('close', () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    child.stdout.on('data', (chunk: Buffer) => {
      if (pending === undefined) {
        res.write(chunk);
        return;
      }
      pending = Buffer.concat([pending, chunk]);
      const split = splitCgiHeaders(pending);
      if (!split) return;
      pending = undefined;
      let status = 200;
      for (const line of split.head.split(/\r?\n/)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim();
        const value = line.slice(colon + 1).trim();
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10) || 500;
        else res.setHeader(name, value);
      }
      res.writeHead(status);
      if (split.body.length > 0) res.write(split.body);
    });
    child.on('close', (code) => {
      children.delete(child);
      if (pending !== undefined && !res.headersSent) {
        res.writeHead(500, { 'Content-Type': 'text/plain' });
        res.end(`git http-backend failed (exit ${code}): ${stderr}`);
        return;
      }
      res.end();
    });
    child.on('error', (error) => {
      children.delete(child);
      if (!res.headersSent) res.writeHead(500, { 'Content-Type': 'text/plain' });
      res.end(String(error));
    });
  }

  async function listen(): Promise<void> {
    if (server) return;
    const next = createServer(handle);
    // A restart right after stop() can briefly find the port in use: retry for a while.
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          next.once('error', reject);
          next.listen(port, '127.0.0.1', () => {
            next.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 50) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    server = next;
  }

  async function stop(): Promise<void> {
    const current = server;
    if (!current) return;
    server = undefined;
    const closed = new Promise<void>((resolve) => current.close(() => resolve()));
    current.closeAllConnections();
    for (const child of children) child.kill('SIGKILL');
    await closed;
  }

  const store = gitRepoStore({ root, url });
  await listen();
  return {
    url,
    port,
    username,
    password,
    root,
    get running() {
      return server !== undefined;
    },
    get requestCount() {
      return requestCount;
    },
    createRepo: store.createRepo,
    openRepo: store.openRepo,
    stop,
    start: listen,
    async close() {
      await stop();
      await rm(base, { recursive: true, force: true });
    },
  };
}

/** One request a RedirectingServer received. */
export interface RecordedRequest {
  method: string;
  /** Path and query string. */
  path: string;
  /** Whether it carried an Authorization header. */
  authorization: boolean;
}

export interface StartRedirectingServerOptions {
  /**
   * The redirect to answer with, or undefined to pass the request on. `location` may be
   * relative (then it stays on this server) or absolute.
   */
  redirect?: (req: {
    method: string;
    path: string;
  }) => { status: number; location: string } | undefined;
  /**
   * Base URL (a TestGitServer's url) that requests not redirected are proxied to, headers
   * and body included. Without one they get a 401 asking for Basic credentials, the
   * answer most likely to draw credentials out of a client.
   */
  upstream?: string;
}

/** An HTTP server on 127.0.0.1 that redirects or proxies, and records what it received. */
export interface RedirectingServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  readonly requests: readonly RecordedRequest[];
  close(): Promise<void>;
}

/**
 * Starts a RedirectingServer: put one in front of the git server to redirect chosen
 * requests (the ref discovery, the upload-pack POST) to another origin or path, and use
 * another, without upstream, as the origin that must never see credentials.
 */
export async function startRedirectingServer(
  options: StartRedirectingServerOptions = {},
): Promise<RedirectingServer> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    const method = req.method ?? 'GET';
    const path = req.url ?? '/';
    requests.push({ method, path, authorization: req.headers.authorization !== undefined });
    const redirect = options.redirect?.({ method, path });
    if (redirect) {
      req.resume();
      res.writeHead(redirect.status, { Location: redirect.location }).end();
      return;
    }
    if (!options.upstream) {
      req.resume();
      res
        .writeHead(401, { 'WWW-Authenticate': 'Basic realm="redirect-target"' })
        .end('authentication required\n');
      return;
    }
    const upstream = new URL(options.upstream);
    const forward = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method,
        path,
        headers: { ...req.headers, host: upstream.host },
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'Content-Type': 'text/plain' });
      res.end(String(error));
    });
    req.pipe(forward);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}
