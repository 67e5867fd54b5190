import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type ContainerLogMessage, paths, type Stack, wsUrl } from '../api';
import { useApp } from '../context';
import { useResource } from '../hooks';
import { stripAnsi } from '../lib/ansi';
import { Empty, ErrorNote, Loading } from './ui';

/** Lines kept on screen per service; older ones scroll away. */
const MAX_LINES = 5000;
const TAIL = 200;

type FollowState = 'connecting' | 'live' | 'ended' | 'failed';
type Line = Extract<ContainerLogMessage, { type: 'line' }>;

/** Follows one service's container logs over the WebSocket route, until unmounted. */
function useContainerLog(stack: string, service: string | null, token: string) {
  const [lines, setLines] = useState<Line[]>([]);
  const [state, setState] = useState<FollowState>('connecting');
  useEffect(() => {
    setLines([]);
    if (!service) return;
    setState('connecting');
    let pending: Line[] = [];
    let frame = 0;
    const ws = new WebSocket(wsUrl(paths.containerLogsWs(stack, service, TAIL), token, location));
    ws.onopen = () => setState('live');
    ws.onmessage = (ev) => {
      let msg: ContainerLogMessage;
      try {
        msg = JSON.parse(String(ev.data));
      } catch {
        return;
      }
      if (msg.type === 'end') {
        setState('ended');
        return;
      }
      // One render per animation frame, however fast the container writes.
      pending.push(msg);
      if (!frame) {
        frame = requestAnimationFrame(() => {
          frame = 0;
          const batch = pending;
          pending = [];
          setLines((prev) => [...prev, ...batch].slice(-MAX_LINES));
        });
      }
    };
    ws.onclose = (ev) =>
      setState((s) => (s === 'ended' ? s : ev.code === 1000 ? 'ended' : 'failed'));
    return () => {
      if (frame) cancelAnimationFrame(frame);
      ws.onclose = ws.onmessage = ws.onopen = null;
      // Closing the socket stops the server's `docker compose logs`.
      ws.close();
    };
  }, [stack, service, token]);
  return { lines, state };
}

/** The stack's Logs tab: one sub-tab per service, its containers' log followed live. */
export function ContainerLogsTab({ stack }: { stack: Stack }) {
  const { token } = useApp();
  const services = useResource(`services:${stack.id}`, (signal) =>
    api.services(stack.id, signal).then((r) => r.services),
  );
  const names = [...new Set((services.data ?? []).map((r) => r.service))].sort();
  const [picked, setPicked] = useState<string | null>(null);
  const service = picked && names.includes(picked) ? picked : (names[0] ?? null);
  const { lines, state } = useContainerLog(stack.id, service, token);
  const box = useRef<HTMLDivElement>(null);
  const atBottom = useRef(true);

  useEffect(() => {
    const el = box.current;
    if (el && atBottom.current) el.scrollTop = el.scrollHeight;
  }, [lines]);

  if (stack.engine === 'swarm') {
    return (
      <Empty title="Not for swarm stacks">
        Container logs come from <code>docker compose logs</code>; a swarm stack's tasks run on the
        swarm's nodes.
      </Empty>
    );
  }
  if (services.error) return <ErrorNote error={services.error} prefix="Could not load services" />;
  if (!services.data) return <Loading label="Loading services…" />;
  if (names.length === 0) {
    return <Empty title="No containers">Deploy the stack to see its containers' logs.</Empty>;
  }
  return (
    <section class="logpanel" aria-labelledby="container-log-title">
      <div class="log-toolbar">
        <h2 id="container-log-title">Container logs</h2>
        <div class="btn-group" role="tablist" aria-label="Services">
          {names.map((n) => (
            <button
              key={n}
              type="button"
              role="tab"
              aria-selected={n === service}
              class={`btn btn-sm${n === service ? ' btn-primary' : ''}`}
              onClick={() => setPicked(n)}
              data-testid={`log-service-${n}`}
            >
              {n}
            </button>
          ))}
        </div>
        <span
          class={`stream-state stream-${state === 'live' ? 'streaming' : state}`}
          data-testid="container-log-state"
          data-state={state}
        >
          {state === 'live'
            ? 'live'
            : state === 'connecting'
              ? 'connecting…'
              : state === 'ended'
                ? 'the containers stopped'
                : 'disconnected'}
        </span>
      </div>
      <div class="log-outer">
        <div
          ref={box}
          class="log log-wrap"
          role="log"
          aria-live="off"
          aria-label={`Logs of ${service ?? ''}`}
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable log must be keyboard-scrollable
          tabIndex={0}
          onScroll={(e) => {
            const el = e.currentTarget;
            atBottom.current = el.scrollHeight - el.scrollTop - el.clientHeight < 24;
          }}
          data-testid="container-log"
          data-service={service ?? ''}
        >
          {lines.length === 0 ? (
            <div class="log-empty muted">Waiting for output…</div>
          ) : (
            lines.map((l) => (
              <div key={l.seq} class="log-line" data-testid="container-log-line">
                <span class="log-ts">{(l.ts ?? '').slice(11, 19)}</span>
                <span class="log-stream">{l.container.replace(/^.*-(\d+)$/, '#$1')}</span>
                <span class="log-text">{stripAnsi(l.text)}</span>
              </div>
            ))
          )}
        </div>
      </div>
    </section>
  );
}
