import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { YamlProblem } from '../lib/yaml-check';

// The YAML parser is loaded on first use, keeping it out of the main bundle.
let checker: Promise<typeof import('../lib/yaml-check')> | null = null;
const loadChecker = () => {
  checker ??= import('../lib/yaml-check');
  return checker;
};

/** Checks YAML shortly after typing stops; returns the problems found. */
export function useYamlProblems(text: string, delayMs = 200): YamlProblem[] {
  const [problems, setProblems] = useState<YamlProblem[]>([]);
  useEffect(() => {
    let stale = false;
    const id = setTimeout(() => {
      void loadChecker().then((m) => {
        if (!stale) setProblems(text ? m.checkComposeYaml(text) : []);
      });
    }, delayMs);
    return () => {
      stale = true;
      clearTimeout(id);
    };
  }, [text, delayMs]);
  return problems;
}

/** A textarea with line numbers; problem lines are marked in the gutter. */
export function YamlEditor({
  id,
  value,
  onInput,
  problems,
  label,
}: {
  id: string;
  value: string;
  onInput: (v: string) => void;
  problems: YamlProblem[];
  label: string;
}) {
  const gutter = useRef<HTMLDivElement>(null);
  const lineCount = Math.max(1, value.split('\n').length);
  const bad = useMemo(() => new Set(problems.map((p) => p.line).filter(Boolean)), [problems]);
  const errorId = `${id}-problems`;
  return (
    <div class="editor-wrap">
      <label for={id}>{label}</label>
      <div
        class={problems.some((p) => p.severity === 'error') ? 'editor editor-invalid' : 'editor'}
      >
        <div class="editor-gutter" ref={gutter} aria-hidden="true">
          {Array.from({ length: lineCount }, (_, i) => (
            <div key={i} class={bad.has(i + 1) ? 'gutter-line gutter-bad' : 'gutter-line'}>
              {i + 1}
            </div>
          ))}
        </div>
        <textarea
          id={id}
          class="editor-text mono"
          value={value}
          spellcheck={false}
          autocapitalize="off"
          autocomplete="off"
          wrap="off"
          rows={16}
          data-testid="compose-editor"
          aria-describedby={problems.length ? errorId : undefined}
          aria-invalid={problems.some((p) => p.severity === 'error') ? 'true' : undefined}
          onInput={(e) => onInput(e.currentTarget.value)}
          onScroll={(e) => {
            if (gutter.current) gutter.current.scrollTop = e.currentTarget.scrollTop;
          }}
          onKeyDown={(e) => {
            // Tab inserts two spaces (YAML has no tabs); Escape then Tab leaves the editor.
            if (e.key === 'Tab' && !e.shiftKey && !e.altKey && !e.ctrlKey && !e.metaKey) {
              const t = e.currentTarget;
              if (t.dataset.escaped === '1') return;
              e.preventDefault();
              const { selectionStart: a, selectionEnd: b } = t;
              const next = `${t.value.slice(0, a)}  ${t.value.slice(b)}`;
              onInput(next);
              requestAnimationFrame(() => t.setSelectionRange(a + 2, a + 2));
            } else if (e.key === 'Escape') e.currentTarget.dataset.escaped = '1';
            else delete e.currentTarget.dataset.escaped;
          }}
        />
      </div>
      <p class="hint">Tab indents; press Esc then Tab to move on.</p>
      {problems.length ? (
        <ul class="yaml-problems" id={errorId} data-testid="yaml-problems" aria-live="polite">
          {problems.map((p, i) => (
            <li key={i} class={p.severity === 'error' ? 'field-error' : 'field-warning'}>
              {p.line ? (
                <span class="mono">
                  Line {p.line}
                  {p.col ? `:${p.col}` : ''} —{' '}
                </span>
              ) : null}
              {p.message}
            </li>
          ))}
        </ul>
      ) : value ? (
        <p class="field-ok" data-testid="yaml-ok">
          Valid YAML
        </p>
      ) : null}
    </div>
  );
}
