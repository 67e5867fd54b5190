import type { ComponentChildren, JSX } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from '../api';
import { useNow } from '../hooks';
import { absoluteTime, humanStatus, timeAgo } from '../lib/format';

/** A status pill; the text is always there, colour only repeats it. */
export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span class={`badge badge-${status}`} data-testid={testId} data-status={status}>
      <span class="badge-dot" aria-hidden="true" />
      {humanStatus(status)}
    </span>
  );
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.message;
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The message from the API error body, shown where the action that failed was. */
export function ErrorNote({
  error,
  prefix,
  testId = 'error',
}: {
  error: unknown;
  prefix?: string;
  testId?: string;
}) {
  if (!error) return null;
  const code = error instanceof ApiError ? error.code : null;
  return (
    <div class="error-note" role="alert" data-testid={testId} data-code={code ?? undefined}>
      <svg viewBox="0 0 16 16" aria-hidden="true" class="icon">
        <circle cx="8" cy="8" r="7" fill="none" stroke="currentColor" stroke-width="1.5" />
        <path
          d="M8 4.5v4.5M8 11v.5"
          stroke="currentColor"
          stroke-width="1.8"
          stroke-linecap="round"
        />
      </svg>
      <span>
        {prefix ? <strong>{prefix}: </strong> : null}
        {errorMessage(error)}
      </span>
    </div>
  );
}

export function Loading({ label = 'Loading…' }: { label?: string }) {
  return (
    <output class="loading" data-testid="loading">
      <span class="spinner" aria-hidden="true" />
      {label}
    </output>
  );
}

export function Empty({ title, children }: { title: string; children?: ComponentChildren }) {
  return (
    <div class="empty" data-testid="empty">
      <p class="empty-title">{title}</p>
      {children ? <div class="empty-body">{children}</div> : null}
    </div>
  );
}

export function Time({ iso }: { iso: string | null | undefined }) {
  const now = useNow();
  if (!iso) return <span class="muted">—</span>;
  return (
    <time dateTime={iso} title={absoluteTime(iso)}>
      {timeAgo(iso, now)}
    </time>
  );
}

export function Code({ children, title }: { children: ComponentChildren; title?: string }) {
  return (
    <code class="mono" title={title}>
      {children}
    </code>
  );
}

export interface ConfirmOptions {
  title: string;
  body?: ComponentChildren;
  confirmLabel: string;
  danger?: boolean;
  /** An extra opt-in, e.g. "also remove volumes". */
  checkbox?: string;
}

export type ConfirmResult = { ok: boolean; checked: boolean };

/**
 * A real modal dialog (the <dialog> element) for confirming destructive actions.
 * Returns the element to render and an async `confirm()`.
 */
export function useConfirm(): [JSX.Element | null, (o: ConfirmOptions) => Promise<ConfirmResult>] {
  const [pending, setPending] = useState<{
    opts: ConfirmOptions;
    resolve: (r: ConfirmResult) => void;
  } | null>(null);
  const confirm = (opts: ConfirmOptions) =>
    new Promise<ConfirmResult>((resolve) => setPending({ opts, resolve }));
  const close = (r: ConfirmResult) => {
    pending?.resolve(r);
    setPending(null);
  };
  const el = pending ? <ConfirmDialog opts={pending.opts} onClose={close} /> : null;
  return [el, confirm];
}

function ConfirmDialog({
  opts,
  onClose,
}: {
  opts: ConfirmOptions;
  onClose: (r: ConfirmResult) => void;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  const [checked, setChecked] = useState(false);
  useEffect(() => {
    const d = ref.current;
    if (d && !d.open) d.showModal();
  }, []);
  return (
    <dialog
      ref={ref}
      class="dialog"
      data-testid="confirm-dialog"
      aria-labelledby="confirm-title"
      onCancel={(e) => {
        e.preventDefault();
        onClose({ ok: false, checked });
      }}
    >
      <form
        method="dialog"
        onSubmit={(e) => {
          e.preventDefault();
          onClose({ ok: true, checked });
        }}
      >
        <h2 id="confirm-title">{opts.title}</h2>
        {opts.body ? <div class="dialog-body">{opts.body}</div> : null}
        {opts.checkbox ? (
          <label class="check">
            <input
              type="checkbox"
              checked={checked}
              data-testid="confirm-checkbox"
              onChange={(e) => setChecked(e.currentTarget.checked)}
            />
            {opts.checkbox}
          </label>
        ) : null}
        <div class="dialog-actions">
          <button
            type="button"
            class="btn"
            data-testid="confirm-cancel"
            onClick={() => onClose({ ok: false, checked })}
            // biome-ignore lint/a11y/noAutofocus: a destructive dialog starts on its safe choice
            autoFocus={!!opts.danger}
          >
            Cancel
          </button>
          <button
            type="submit"
            class={opts.danger ? 'btn btn-danger' : 'btn btn-primary'}
            data-testid="confirm-ok"
            // biome-ignore lint/a11y/noAutofocus: a harmless dialog starts on its action
            autoFocus={!opts.danger}
          >
            {opts.confirmLabel}
          </button>
        </div>
      </form>
    </dialog>
  );
}

export function Field({
  label,
  id,
  hint,
  error,
  children,
}: {
  label: string;
  id: string;
  hint?: ComponentChildren;
  error?: string | null;
  children: ComponentChildren;
}) {
  return (
    <div class={error ? 'field field-invalid' : 'field'}>
      <label for={id}>{label}</label>
      {children}
      {hint ? (
        <p class="hint" id={`${id}-hint`}>
          {hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${id}-error`} role="alert" data-testid={`${id}-error`}>
          {error}
        </p>
      ) : null}
    </div>
  );
}
