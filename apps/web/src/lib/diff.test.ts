import { describe, expect, it } from 'vitest';
import { diffText, diffVersions, VARIABLES_PATH, variablesText } from './diff';

describe('diffText', () => {
  it('numbers added, removed and context lines', () => {
    const d = diffText('a\nb\nc\n', 'a\nB\nc\n');
    expect(d.added).toBe(1);
    expect(d.removed).toBe(1);
    expect(d.rows).toEqual([
      { kind: 'ctx', text: 'a', oldNo: 1, newNo: 1 },
      { kind: 'del', text: 'b', oldNo: 2 },
      { kind: 'add', text: 'B', newNo: 2 },
      { kind: 'ctx', text: 'c', oldNo: 3, newNo: 3 },
    ]);
  });

  it('folds long unchanged runs, keeping context around changes', () => {
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i + 1}`);
    const after = [...lines];
    after[10] = 'changed';
    const d = diffText(`${lines.join('\n')}\n`, `${after.join('\n')}\n`, 2);
    expect(d.rows[0]).toEqual({ kind: 'skip', count: 8 });
    expect(d.rows.filter((r) => r.kind === 'ctx')).toHaveLength(4);
    expect(d.rows[d.rows.length - 1]).toEqual({ kind: 'skip', count: 7 });
  });

  it('handles a file without a trailing newline and an empty side', () => {
    expect(diffText('', 'x').rows).toEqual([{ kind: 'add', text: 'x', newNo: 1 }]);
    expect(diffText('x', '').rows).toEqual([{ kind: 'del', text: 'x', oldNo: 1 }]);
  });
});

describe('diffVersions', () => {
  it('reports added, removed, modified and unchanged files, changed ones first', () => {
    const out = diffVersions(
      { files: { 'compose.yaml': 'a: 1\n', 'old.yaml': 'x\n', 'same.yaml': 's\n' } },
      { files: { 'compose.yaml': 'a: 2\n', 'new.yaml': 'y\n', 'same.yaml': 's\n' } },
    );
    expect(out.map((f) => [f.path, f.status])).toEqual([
      ['compose.yaml', 'modified'],
      ['new.yaml', 'added'],
      ['old.yaml', 'removed'],
      ['same.yaml', 'unchanged'],
    ]);
  });

  it('diffs variables as a sorted KEY=value file', () => {
    expect(variablesText({ B: '2', A: '1' })).toBe('A=1\nB=2\n');
    const out = diffVersions({ variables: { TAG: '1' } }, { variables: { TAG: '2' } });
    expect(out[0]?.path).toBe(VARIABLES_PATH);
    expect(out[0]?.added).toBe(1);
  });
});
