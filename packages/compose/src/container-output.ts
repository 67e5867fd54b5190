/** One line of `docker compose logs --timestamps` (prefix on), split into its parts. */
export interface ContainerLogEntry {
  /** The container the line came from (compose's prefix). */
  container: string;
  /** When the container wrote it (RFC 3339 from the engine); null when the line had none. */
  ts: string | null;
  text: string;
}

const PREFIXED = /^(\S+)\s+\| ?(.*)$/;
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:\d\d)) ?(.*)$/;

// Compose starts lines with terminal control (erase line) even with --no-color.
// biome-ignore lint/suspicious/noControlCharactersInRegex: the escape is what is matched
const LEADING_CONTROL = /^(?:\x1b\[[0-9;?]*[A-Za-z])+/;

/** Reads a line of compose's log output; a line without compose's prefix keeps it all as text. */
export function parseComposeLogLine(raw: string): ContainerLogEntry {
  const line = raw.replace(LEADING_CONTROL, '');
  const prefixed = PREFIXED.exec(line);
  const container = prefixed?.[1] ?? '';
  const rest = prefixed ? (prefixed[2] ?? '') : line;
  const stamped = STAMP.exec(rest);
  if (!stamped) return { container, ts: null, text: rest };
  return { container, ts: stamped[1] ?? null, text: stamped[2] ?? '' };
}

/** Resource use of one container, from `docker stats --no-stream --format json`. */
export interface ContainerUsage {
  /** Container name as the engine knows it. */
  container: string;
  cpu_percent: number | null;
  memory_usage_bytes: number | null;
  memory_limit_bytes: number | null;
  memory_percent: number | null;
  network_rx_bytes: number | null;
  network_tx_bytes: number | null;
  pids: number | null;
}

const UNITS: Record<string, number> = {
  b: 1,
  kb: 1e3,
  mb: 1e6,
  gb: 1e9,
  tb: 1e12,
  pb: 1e15,
  kib: 1024,
  mib: 1024 ** 2,
  gib: 1024 ** 3,
  tib: 1024 ** 4,
  pib: 1024 ** 5,
};

/** `1.5MiB`, `12.3kB`, `0B` (the CLI's decimal and binary sizes) in bytes; null for `--`. */
export function parseSize(text: string | undefined): number | null {
  const m = /^\s*([\d.]+)\s*([a-zA-Z]+)\s*$/.exec(text ?? '');
  if (!m) return null;
  const factor = UNITS[(m[2] ?? '').toLowerCase()];
  const n = Number(m[1]);
  return factor === undefined || Number.isNaN(n) ? null : Math.round(n * factor);
}

const percent = (text: string | undefined) => {
  const n = Number.parseFloat((text ?? '').replace('%', ''));
  return Number.isFinite(n) ? n : null;
};

const pair = (text: string | undefined): [number | null, number | null] => {
  const [a, b] = (text ?? '').split('/');
  return [parseSize(a), parseSize(b)];
};

interface RawStats {
  Name?: string;
  CPUPerc?: string;
  MemUsage?: string;
  MemPerc?: string;
  NetIO?: string;
  PIDs?: string;
}

/** Reads `docker stats --no-stream --format json` (one JSON object per line). */
export function parseStatsJson(stdout: string): ContainerUsage[] {
  return stdout
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => {
      const r = JSON.parse(l) as RawStats;
      const [memUsage, memLimit] = pair(r.MemUsage);
      const [rx, tx] = pair(r.NetIO);
      const pids = Number.parseInt(r.PIDs ?? '', 10);
      return {
        container: r.Name ?? '',
        cpu_percent: percent(r.CPUPerc),
        memory_usage_bytes: memUsage,
        memory_limit_bytes: memLimit,
        memory_percent: percent(r.MemPerc),
        network_rx_bytes: rx,
        network_tx_bytes: tx,
        pids: Number.isNaN(pids) ? null : pids,
      };
    });
}
