// Checks compose YAML in the browser before it is sent, so syntax errors show
// next to the editor with their line and column.
import { LineCounter, parseDocument } from 'yaml';

export interface YamlProblem {
  message: string;
  line?: number;
  col?: number;
  severity: 'error' | 'warning';
}

/** Syntax errors first, then shape problems a compose file can't have. */
export function checkComposeYaml(text: string): YamlProblem[] {
  if (!text.trim()) return [{ message: 'The compose file is empty.', severity: 'error' }];
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems: YamlProblem[] = [];
  for (const e of doc.errors) {
    const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
    problems.push({
      message: firstLine(e.message),
      line: pos?.line,
      col: pos?.col,
      severity: 'error',
    });
  }
  if (problems.length) return problems;
  const value: unknown = doc.toJS();
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    return [{ message: 'A compose file must be a mapping (key: value).', severity: 'error' }];
  }
  const services = (value as Record<string, unknown>).services;
  if (services === undefined) {
    problems.push({ message: 'There is no top-level "services" key.', severity: 'warning' });
  } else if (!services || typeof services !== 'object' || Array.isArray(services)) {
    problems.push({ message: '"services" must be a mapping of service names.', severity: 'error' });
  }
  return problems;
}

export function hasErrors(problems: YamlProblem[]): boolean {
  return problems.some((p) => p.severity === 'error');
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
}
