import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** One request wrk sends; a list of them is sent in turn, round robin. */
export interface WrkRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

export interface WrkOptions {
  /** Base URL, e.g. http://127.0.0.1:8000 (loopback only). */
  url: string;
  /** Requests sent in turn; default one `GET /` of the url. */
  requests?: WrkRequest[];
  /** Open connections (requests in flight). */
  connections: number;
  /** Upper bound of the run, in seconds (wrk -d): every run stops by itself. */
  seconds: number;
  /** Stop once this many responses arrived (the run may have sent up to `connections` more). */
  maxResponses?: number;
  /** Count each response's status (costs a Lua call per response; off for big bodies). */
  countStatuses?: boolean;
}

export interface WrkResult {
  /** Responses received. */
  requests: number;
  seconds: number;
  rps: number;
  /** Response bytes per second (headers included). */
  bytesPerSec: number;
  latencyMs: { p50: number; p90: number; p99: number; mean: number; max: number };
  /** Socket errors and timeouts, and responses with a status of 400 or more. */
  errors: { connect: number; read: number; write: number; timeout: number; status: number };
  /** Responses by status, when countStatuses. */
  statuses: Record<string, number>;
}

let checked = false;
/** wrk is Debian's `wrk` package (apt-get install wrk). */
export function assertWrk(): void {
  if (checked) return;
  try {
    execFileSync('wrk', ['--version'], { stdio: 'pipe' });
  } catch (error) {
    // wrk --version prints its banner and exits 1.
    const out = String((error as { stdout?: Buffer }).stdout ?? '');
    if (!out.includes('wrk')) throw new Error('wrk is not installed: apt-get install wrk');
  }
  checked = true;
}

/** A Lua string literal for any bytes of `s` (escapes only; Lua long brackets would fold \r\n). */
function luaString(s: string): string {
  let out = '"';
  for (const byte of Buffer.from(s, 'utf8')) {
    if (byte === 0x22 || byte === 0x5c) out += `\\${String.fromCharCode(byte)}`;
    else if (byte >= 0x20 && byte < 0x7f) out += String.fromCharCode(byte);
    else out += `\\${byte}`;
  }
  return `${out}"`;
}

function luaScript(opts: WrkOptions): string {
  const reqs = opts.requests ?? [];
  const table = reqs
    .map((r) => {
      const headers = Object.entries(r.headers ?? {})
        .map(([k, v]) => `[${luaString(k)}]=${luaString(v)}`)
        .join(',');
      return `wrk.format(${luaString(r.method ?? 'GET')},${luaString(r.path)},{${headers}},${r.body === undefined ? 'nil' : luaString(r.body)})`;
    })
    .join(',\n');
  const counting = opts.countStatuses || opts.maxResponses !== undefined;
  return `
local threads = {}
function setup(thread) table.insert(threads, thread) end
local reqs = nil
local n = 0
local seen = 0
statuses = {}
function init(args)
  reqs = {${table}}
end
${
  reqs.length
    ? `function request()
  n = n + 1
  if n > #reqs then n = 1 end
  return reqs[n]
end`
    : ''
}
${
  counting
    ? `function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  seen = seen + 1
  ${
    opts.maxResponses
      ? `if seen == ${Math.ceil(opts.maxResponses)} then
    io.write("WRK_DONE\\n")
    io.flush()
    wrk.thread:stop()
  end`
      : ''
  }
end`
    : ''
}
function done(summary, latency, requests)
  local counts = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses")
    if s then for k, v in pairs(s) do counts[k] = (counts[k] or 0) + v end end
  end
  local parts = {}
  for k, v in pairs(counts) do table.insert(parts, string.format('"%d":%d', k, v)) end
  local e = summary.errors
  io.write(string.format('WRK_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
    '"errors":{"connect":%d,"read":%d,"write":%d,"timeout":%d,"status":%d},' ..
    '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%f,"max":%d},"statuses":{%s}}\\n',
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean, latency.max,
    table.concat(parts, ",")))
end
`;
}

/**
 * Runs wrk (one thread, its own process) against `url` and returns its figures. Bounded:
 * wrk stops after `seconds` (or `maxResponses`), and is killed if it outlives that by 15 s.
 */
export async function runWrk(opts: WrkOptions): Promise<WrkResult> {
  assertWrk();
  const u = new URL(opts.url);
  if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname))
    throw new Error(`wrk targets loopback only, not ${u.hostname}`);
  const dir = mkdtempSync(join(tmpdir(), 'sd-bench-wrk-'));
  const script = join(dir, 'bench.lua');
  writeFileSync(script, luaScript(opts));
  try {
    const args = [
      '-t1',
      `-c${opts.connections}`,
      `-d${Math.ceil(opts.seconds)}s`,
      '--timeout',
      '10s',
      '-s',
      script,
      opts.url,
    ];
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      let interrupted = false;
      child.stdout.on('data', (c: Buffer) => {
        stdout += c.toString();
        // wrk sleeps out its whole -d even when its thread stopped: SIGINT ends the run
        // now, and wrk reports (duration up to here) as it does at the end of -d.
        if (stdout.includes('WRK_DONE') && !interrupted) {
          interrupted = true;
          child.kill('SIGINT');
        }
      });
      child.stderr.on('data', (c: Buffer) => {
        stderr += c.toString();
      });
      const timer = setTimeout(() => child.kill('SIGKILL'), (opts.seconds + 15) * 1000);
      child.once('error', reject);
      child.once('exit', (code) => {
        clearTimeout(timer);
        if (code === 0) resolve(stdout);
        else reject(new Error(`wrk exited with ${code}: ${stderr || stdout}`));
      });
    });
    const line = out.split('\n').find((l) => l.startsWith('WRK_JSON '));
    if (!line) throw new Error(`wrk printed no report: ${out}`);
    const raw = JSON.parse(line.slice('WRK_JSON '.length)) as {
      requests: number;
      duration_us: number;
      bytes: number;
      errors: WrkResult['errors'];
      latency_us: Record<'p50' | 'p90' | 'p99' | 'mean' | 'max', number>;
      statuses: Record<string, number>;
    };
    const seconds = raw.duration_us / 1e6;
    const ms = (us: number) => us / 1000;
    return {
      requests: raw.requests,
      seconds,
      rps: raw.requests / seconds,
      bytesPerSec: raw.bytes / seconds,
      latencyMs: {
        p50: ms(raw.latency_us.p50),
        p90: ms(raw.latency_us.p90),
        p99: ms(raw.latency_us.p99),
        mean: ms(raw.latency_us.mean),
        max: ms(raw.latency_us.max),
      },
      errors: raw.errors,
      statuses: raw.statuses,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Socket errors of a run (timeouts included); non-2xx/3xx are apart, in errors.status. */
export const socketErrors = (r: WrkResult) =>
  r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout;
