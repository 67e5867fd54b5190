import { runWrk, type WrkOptions, type WrkResult } from './wrk';

/** One target of an issue: a ratio measured in this run against its bound. */
export interface BenchTarget {
  /** What is measured, e.g. "GET /api/v1/stacks, 500 stacks, vs static body". */
  what: string;
  ratio: number;
  /** `min`: the ratio must be at least `bound`; `max`: at most. */
  kind: 'min' | 'max';
  bound: number;
  /** How the ratio is read, when not "×" (e.g. "s" for an absolute bound). */
  unit?: string;
}

export const holds = (t: BenchTarget) =>
  t.kind === 'min' ? t.ratio >= t.bound : t.ratio <= t.bound;

const num = (x: number) => (Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));

/** `0.62× (target ≥ 0.5×): holds` */
export function targetLine(t: BenchTarget): string {
  const u = t.unit ?? '×';
  return `${num(t.ratio)}${u} (target ${t.kind === 'min' ? '≥' : '≤'} ${t.bound}${u}): ${holds(t) ? 'holds' : 'MISSED'}`;
}

/** A markdown table of targets, for a section's body. */
export function targetTable(targets: BenchTarget[]): string {
  return [
    '| target | measured | bound | holds |',
    '| --- | --- | --- | --- |',
    ...targets.map(
      (t) =>
        `| ${t.what} | **${num(t.ratio)}${t.unit ?? '×'}** | ${t.kind === 'min' ? '≥' : '≤'} ${t.bound}${t.unit ?? '×'} | ${holds(t) ? 'yes' : '**no**'} |`,
    ),
  ].join('\n');
}

/** Requests of several wrk runs of one side, taken together. */
export interface Pooled {
  requests: number;
  seconds: number;
  rps: number;
  /** Each run's requests per second, in run order. */
  runs: number[];
  p50Ms: number;
  p99Ms: number;
  bytesPerRequest: number;
  errors: number;
}

function pool(results: WrkResult[]): Pooled {
  const requests = results.reduce((a, r) => a + r.requests, 0);
  const seconds = results.reduce((a, r) => a + r.seconds, 0);
  const bytes = results.reduce((a, r) => a + r.bytesPerSec * r.seconds, 0);
  const med = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? Number.NaN;
  return {
    requests,
    seconds,
    rps: requests / seconds,
    runs: results.map((r) => r.rps),
    p50Ms: med(results.map((r) => r.latencyMs.p50)),
    p99Ms: med(results.map((r) => r.latencyMs.p99)),
    bytesPerRequest: bytes / Math.max(1, requests),
    errors: results.reduce(
      (a, r) =>
        a + r.errors.connect + r.errors.read + r.errors.write + r.errors.timeout + r.errors.status,
      0,
    ),
  };
}

/**
 * wrk against a baseline and a subject in turn (baseline, subject, baseline, …), `rounds`
 * times each, so a machine whose load changes (other work on it) weighs on both alike.
 * Each side's figures pool its runs; the ratio is subject / baseline requests per second.
 */
export async function interleaved(
  baseline: WrkOptions,
  subject: WrkOptions,
  rounds = 3,
): Promise<{ baseline: Pooled; subject: Pooled; ratio: number }> {
  const a: WrkResult[] = [];
  const b: WrkResult[] = [];
  for (let i = 0; i < rounds; i++) {
    a.push(await runWrk(baseline));
    b.push(await runWrk(subject));
  }
  const pa = pool(a);
  const pb = pool(b);
  return { baseline: pa, subject: pb, ratio: pb.rps / pa.rps };
}
