// Small, pure formatting helpers for times, durations and ids.

export function parseTime(iso: string | null | undefined): number | null {
  if (!iso) return null;
  const t = Date.parse(iso);
  return Number.isNaN(t) ? null : t;
}

/** "just now", "5 min ago", "3 h ago", "2 days ago"; future times read "in …". */
export function timeAgo(iso: string | null | undefined, now: number): string {
  const t = parseTime(iso);
  if (t === null) return '—';
  const s = Math.round((now - t) / 1000);
  const abs = Math.abs(s);
  const unit =
    abs < 10
      ? null
      : abs < 60
        ? `${abs} s`
        : abs < 3600
          ? `${Math.floor(abs / 60)} min`
          : abs < 86_400
            ? `${Math.floor(abs / 3600)} h`
            : `${Math.floor(abs / 86_400)} ${Math.floor(abs / 86_400) === 1 ? 'day' : 'days'}`;
  if (!unit) return 'just now';
  return s >= 0 ? `${unit} ago` : `in ${unit}`;
}

/** 850 ms, 12.3 s, 4 min 05 s, 1 h 02 min. */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(Math.floor(s % 60)).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

/** Duration of a deployment: finished − started, or still running: now − started. */
export function deploymentDuration(
  d: { started_at?: string | null; finished_at?: string | null },
  now: number,
): number | null {
  const start = parseTime(d.started_at);
  if (start === null) return null;
  return (parseTime(d.finished_at) ?? now) - start;
}

export function shortSha(sha: string | null | undefined, n = 7): string {
  return sha ? sha.slice(0, n) : '—';
}

/** Ids may be long uuids or sha-like; show enough to tell them apart. */
export function shortId(id: string | null | undefined): string {
  if (!id) return '—';
  if (id.length <= 12) return id;
  // Server ids are `<kind>_<time><counter><random>`: ids made the same day share their
  // head, so the kind and the random tail tell them apart.
  const m = /^([a-z]+)_(.+)$/.exec(id);
  return m ? `${m[1]}_${m[2]!.slice(-6)}` : id.slice(0, 8);
}

export function absoluteTime(iso: string | null | undefined): string {
  const t = parseTime(iso);
  return t === null
    ? ''
    : new Date(t)
        .toISOString()
        .replace('T', ' ')
        .replace(/\.\d+Z$/, ' UTC');
}

export function humanStatus(status: string): string {
  return status.replace(/_/g, ' ');
}

/** Bytes as people read them (1024-based, one decimal): `512 B`, `1.5 MiB`; `—` when unknown. */
export function formatBytes(n: number | null | undefined): string {
  if (n === null || n === undefined || !Number.isFinite(n)) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}
