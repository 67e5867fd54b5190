import { useEffect, useMemo, useState } from 'preact/hooks';
import { api, onUnauthorized, paths, setToken, wsUrl } from './api';
import { loadKey, saveKey } from './auth';
import { AppContext, type AppContextValue, type ToastKind } from './context';
import { useHashRoute, useResource } from './hooks';
import { canAdmin, describeKey } from './lib/access';
import { links } from './lib/route';
import { LiveChannel, type LiveMode } from './live';
import { AuditPage } from './pages/AuditPage';
import { DeploymentPage } from './pages/DeploymentPage';
import { HostsPage } from './pages/HostsPage';
import { NewStackPage } from './pages/NewStackPage';
import { NotifiersPage } from './pages/NotifiersPage';
import { SignIn } from './pages/SignIn';
import { StackPage } from './pages/StackPage';
import { StacksPage } from './pages/StacksPage';

interface Toast {
  id: number;
  message: string;
  kind: ToastKind;
}

export function App() {
  const [token, setTok] = useState<string | null>(() => {
    const k = loadKey();
    setToken(k);
    return k;
  });
  const [signOutReason, setSignOutReason] = useState<string | null>(null);

  const signIn = (key: string) => {
    saveKey(key);
    setToken(key);
    setSignOutReason(null);
    setTok(key);
  };
  const signOut = (reason?: string) => {
    saveKey(null);
    setToken(null);
    setSignOutReason(reason ?? null);
    setTok(null);
  };

  useEffect(
    () =>
      onUnauthorized(() => signOut('The server no longer accepts this API key. Sign in again.')),
    [],
  );

  if (!token) return <SignIn onSignIn={signIn} notice={signOutReason} />;
  return <Shell key={token} token={token} signOut={signOut} />;
}

function Shell({ token, signOut }: { token: string; signOut: (reason?: string) => void }) {
  const route = useHashRoute();
  const [toasts, setToasts] = useState<Toast[]>([]);
  const live = useMemo(
    () => new LiveChannel({ url: wsUrl(paths.eventsWs, token, location) }),
    [token],
  );
  const [mode, setMode] = useState<LiveMode>(live.mode);
  // Who is signed in, to hide what the key cannot do; unknown (older server) hides nothing.
  const self = useResource(`self:${token}`, (signal) => api.self(signal).then((r) => r.key));
  const me = self.data ?? null;

  useEffect(() => {
    const off = live.onMode(setMode);
    live.start();
    return () => {
      off();
      live.stop();
    };
  }, [live]);

  // Move focus to the new page's heading so keyboard and screen-reader users follow along.
  // Runs on every route change.
  useEffect(() => {
    window.scrollTo(0, 0);
    const h = document.querySelector<HTMLElement>('main h1');
    if (h && document.activeElement === document.body) h.focus({ preventScroll: true });
  }, [route]);

  const ctx: AppContextValue = useMemo(
    () => ({
      token,
      me,
      live,
      signOut,
      toast: (message, kind = 'info') => {
        const id = Date.now() + Math.random();
        setToasts((t) => [...t.slice(-3), { id, message, kind }]);
        setTimeout(() => setToasts((t) => t.filter((x) => x.id !== id)), 4500);
      },
    }),
    [token, me, live, signOut],
  );

  let page: preact.JSX.Element;
  switch (route.page) {
    case 'stacks':
      page = <StacksPage />;
      break;
    case 'new':
      page = <NewStackPage />;
      break;
    case 'audit':
      page = <AuditPage />;
      break;
    case 'notifiers':
      page = <NotifiersPage />;
      break;
    case 'hosts':
      page = <HostsPage />;
      break;
    case 'stack':
      page = <StackPage key={route.stack} stack={route.stack} tab={route.tab} />;
      break;
    case 'deployment':
      page = <DeploymentPage key={route.id} id={route.id} />;
      break;
    default:
      page = (
        <section class="page">
          <h1 tabIndex={-1}>Page not found</h1>
          <p>
            Nothing lives at <code>{route.path}</code>. <a href={links.stacks()}>Back to stacks</a>
          </p>
        </section>
      );
  }

  return (
    <AppContext.Provider value={ctx}>
      <button
        type="button"
        class="skip btn"
        onClick={() => document.getElementById('main')?.focus()}
      >
        Skip to content
      </button>
      <header class="topbar">
        <a class="brand" href={links.stacks()} aria-label="simpledeploy, all stacks">
          <svg viewBox="0 0 24 24" aria-hidden="true" class="brand-mark">
            <rect width="24" height="24" rx="6" />
            <path d="M6 13l4 4 8-10" />
          </svg>
          <span>simpledeploy</span>
        </a>
        <nav aria-label="Main" class="topnav">
          <a href={links.stacks()} aria-current={route.page === 'stacks' ? 'page' : undefined}>
            Stacks
          </a>
          {canAdmin(me) ? (
            <a
              href={links.newStack()}
              aria-current={route.page === 'new' ? 'page' : undefined}
              data-testid="nav-new-stack"
            >
              New stack
            </a>
          ) : null}
          <a
            href={links.hosts()}
            aria-current={route.page === 'hosts' ? 'page' : undefined}
            data-testid="nav-hosts"
          >
            Hosts
          </a>
          <a
            href={links.audit()}
            aria-current={route.page === 'audit' ? 'page' : undefined}
            data-testid="nav-audit"
          >
            Audit
          </a>
          <a
            href={links.notifiers()}
            aria-current={route.page === 'notifiers' ? 'page' : undefined}
            data-testid="nav-notifiers"
          >
            Notifications
          </a>
        </nav>
        <div class="topbar-end">
          {me ? (
            <span
              class="whoami muted"
              data-testid="signed-in-as"
              data-role={me.role}
              title="The API key this browser is signed in with"
            >
              {describeKey(me)}
            </span>
          ) : null}
          <span
            class={`live live-${mode}`}
            data-testid="live-status"
            data-mode={mode}
            title={
              mode === 'live'
                ? 'Updates are pushed by the server'
                : 'The live channel is unavailable: refreshing every few seconds'
            }
          >
            <span class="live-dot" aria-hidden="true" />
            {mode === 'live' ? 'Live' : mode === 'connecting' ? 'Connecting' : 'Polling'}
          </span>
          <button
            type="button"
            class="btn btn-ghost btn-sm"
            onClick={() => signOut()}
            data-testid="sign-out"
          >
            Sign out
          </button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {page}
      </main>
      <output class="toasts" aria-live="polite">
        {toasts.map((t) => (
          <div key={t.id} class={`toast toast-${t.kind}`} data-testid="toast">
            {t.message}
          </div>
        ))}
      </output>
    </AppContext.Provider>
  );
}
