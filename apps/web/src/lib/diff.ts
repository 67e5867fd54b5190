// Line diffs between two versions of a stack: every file plus the interpolation
// variables (as a virtual `KEY=value` file), with unchanged runs folded.
import { diffLines } from 'diff';

export type DiffRow =
  | { kind: 'ctx' | 'add' | 'del'; text: string; oldNo?: number; newNo?: number }
  | { kind: 'skip'; count: number };

export interface FileDiff {
  path: string;
  status: 'added' | 'removed' | 'modified' | 'unchanged';
  added: number;
  removed: number;
  rows: DiffRow[];
}

export interface VersionContent {
  files?: Record<string, string> | null;
  variables?: Record<string, string> | null;
}

export const VARIABLES_PATH = '(variables)';

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

/** A line diff of two texts, unchanged runs longer than 2×context folded into a skip row. */
export function diffText(
  before: string,
  after: string,
  context = 3,
): Omit<FileDiff, 'path' | 'status'> {
  const full: DiffRow[] = [];
  let oldNo = 1;
  let newNo = 1;
  let added = 0;
  let removed = 0;
  for (const part of diffLines(before, after)) {
    for (const text of splitLines(part.value)) {
      if (part.added) {
        full.push({ kind: 'add', text, newNo: newNo++ });
        added++;
      } else if (part.removed) {
        full.push({ kind: 'del', text, oldNo: oldNo++ });
        removed++;
      } else full.push({ kind: 'ctx', text, oldNo: oldNo++, newNo: newNo++ });
    }
  }
  return { added, removed, rows: foldContext(full, context) };
}

function foldContext(rows: DiffRow[], context: number): DiffRow[] {
  const out: DiffRow[] = [];
  let i = 0;
  while (i < rows.length) {
    if (rows[i]!.kind !== 'ctx') {
      out.push(rows[i]!);
      i++;
      continue;
    }
    let j = i;
    while (j < rows.length && rows[j]!.kind === 'ctx') j++;
    const run = rows.slice(i, j);
    const lead = i === 0 ? 0 : context;
    const tail = j === rows.length ? 0 : context;
    if (run.length > lead + tail + 1) {
      out.push(...run.slice(0, lead));
      out.push({ kind: 'skip', count: run.length - lead - tail });
      out.push(...run.slice(run.length - tail));
    } else out.push(...run);
    i = j;
  }
  return out;
}

/** Variables as sorted `KEY=value` lines, so they diff like a file. */
export function variablesText(vars: Record<string, string> | null | undefined): string {
  if (!vars) return '';
  return Object.keys(vars)
    .sort()
    .map((k) => `${k}=${vars[k]}\n`)
    .join('');
}

function contents(v: VersionContent): Map<string, string> {
  const m = new Map(Object.entries(v.files ?? {}));
  const vars = variablesText(v.variables);
  if (vars) m.set(VARIABLES_PATH, vars);
  return m;
}

/** Per-file diffs from `a` (older) to `b` (newer); changed files first, then by path. */
export function diffVersions(a: VersionContent, b: VersionContent, context = 3): FileDiff[] {
  const before = contents(a);
  const after = contents(b);
  const paths = [...new Set([...before.keys(), ...after.keys()])];
  const files = paths.map((path): FileDiff => {
    const x = before.get(path);
    const y = after.get(path);
    const status =
      x === undefined ? 'added' : y === undefined ? 'removed' : x === y ? 'unchanged' : 'modified';
    return { path, status, ...diffText(x ?? '', y ?? '', context) };
  });
  const rank = (f: FileDiff) => (f.status === 'unchanged' ? 1 : 0);
  return files.sort((p, q) => rank(p) - rank(q) || p.path.localeCompare(q.path));
}
