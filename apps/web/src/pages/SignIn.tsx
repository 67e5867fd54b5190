import { useState } from 'preact/hooks';
import { ApiError, api } from '../api';
import { ErrorNote } from '../components/ui';

export function SignIn({
  onSignIn,
  notice,
}: {
  onSignIn: (key: string) => void;
  notice: string | null;
}) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: Event) => {
    e.preventDefault();
    const k = key.trim();
    if (!k) {
      setError(new Error('Enter the API key.'));
      return;
    }
    setBusy(true);
    setError(null);
    try {
      await api.checkKey(k);
      onSignIn(k);
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 401
          ? new ApiError(401, 'UNAUTHORIZED', 'That API key is not valid for this server.')
          : err,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="signin" id="main">
      <form class="card signin-card" onSubmit={submit} aria-labelledby="signin-title" noValidate>
        <div class="brand brand-lg">
          <svg viewBox="0 0 24 24" aria-hidden="true" class="brand-mark">
            <rect width="24" height="24" rx="6" />
            <path d="M6 13l4 4 8-10" />
          </svg>
          <span>simpledeploy</span>
        </div>
        <h1 id="signin-title">Sign in</h1>
        <p class="muted">
          Enter the server's API key (<code>SIMPLEDEPLOY_API_KEY</code>). It is kept for this
          browser tab only.
        </p>
        {notice ? <output class="notice">{notice}</output> : null}
        <div class="field">
          <label for="api-key">API key</label>
          <input
            id="api-key"
            name="api-key"
            type="password"
            autocomplete="current-password"
            value={key}
            onInput={(e) => setKey(e.currentTarget.value)}
            data-testid="api-key"
            aria-invalid={error ? 'true' : undefined}
            aria-describedby={error ? 'signin-error' : undefined}
            // biome-ignore lint/a11y/noAutofocus: the only thing to do on this page
            autoFocus
          />
        </div>
        <div id="signin-error">
          <ErrorNote error={error} testId="signin-error" />
        </div>
        <button
          type="submit"
          class="btn btn-primary btn-block"
          disabled={busy}
          data-testid="sign-in"
        >
          {busy ? 'Checking…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
