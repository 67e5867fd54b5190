import { createContext } from 'preact';
import { useContext, useEffect, useRef } from 'preact/hooks';
import type { KeyInfo } from './api';
import type { LiveChannel, LiveEvent } from './live';

export type ToastKind = 'info' | 'success' | 'error';

export interface AppContextValue {
  token: string;
  /** Who is signed in; null until known, or when the server cannot say (then every action shows). */
  me: KeyInfo | null;
  live: LiveChannel;
  signOut: (reason?: string) => void;
  toast: (message: string, kind?: ToastKind) => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const ctx = useContext(AppContext);
  if (!ctx) throw new Error('useApp outside AppContext');
  return ctx;
}

/** Calls `fn` for every push event while the component is mounted. */
export function useLive(fn: (e: LiveEvent) => void): void {
  const { live } = useApp();
  const ref = useRef(fn);
  ref.current = fn;
  useEffect(() => live.subscribe((e) => ref.current(e)), [live]);
}
