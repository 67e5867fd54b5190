import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { parseRoute, type Route } from './lib/route';

export function useHashRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** The current time, re-read every `ms` so relative times stay fresh. */
export function useNow(ms = 10_000): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(id);
  }, [ms]);
  return now;
}

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  /** Re-fetch in the background, keeping what is shown until the answer arrives. */
  reload: () => void;
  setData: (fn: (prev: T | undefined) => T | undefined) => void;
}

/** Fetches on mount and whenever `key` changes; stale answers are discarded. */
export function useResource<T>(
  key: string,
  fetcher: (signal: AbortSignal) => Promise<T>,
): Resource<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: unknown; loading: boolean }>({
    key,
    loading: true,
  });
  const fetcherRef = useRef(fetcher);
  fetcherRef.current = fetcher;
  const ctrl = useRef<AbortController | null>(null);
  const inflight = useRef(false);

  const run = useCallback(
    (fresh: boolean) => {
      if (!fresh && inflight.current) return;
      ctrl.current?.abort();
      const c = new AbortController();
      ctrl.current = c;
      inflight.current = true;
      if (fresh) setState({ key, loading: true });
      fetcherRef.current(c.signal).then(
        (data) => {
          if (c.signal.aborted) return;
          inflight.current = false;
          setState({ key, data, loading: false });
        },
        (error) => {
          if (c.signal.aborted) return;
          inflight.current = false;
          setState((s) => ({
            key,
            data: s.key === key ? s.data : undefined,
            error,
            loading: false,
          }));
        },
      );
    },
    [key],
  );

  useEffect(() => {
    run(true);
    return () => ctrl.current?.abort();
  }, [run]);

  const setData = useCallback((fn: (prev: T | undefined) => T | undefined) => {
    setState((s) => ({ ...s, data: fn(s.data) }));
  }, []);

  const current = state.key === key ? state : { key, loading: true };
  return {
    data: current.data,
    error: current.error,
    loading: current.loading,
    reload: () => run(false),
    setData,
  };
}

/** Runs an async action, tracking whether it is busy and the error it ended with. */
export function useAction<A extends unknown[], R>(fn: (...args: A) => Promise<R>) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<unknown>(null);
  const run = async (...args: A): Promise<R | undefined> => {
    setBusy(true);
    setError(null);
    try {
      return await fn(...args);
    } catch (e) {
      setError(e);
      return undefined;
    } finally {
      setBusy(false);
    }
  };
  return { run, busy, error, clearError: () => setError(null) };
}
