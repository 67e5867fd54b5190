import { useEffect, useLayoutEffect, useReducer, useRef, useState } from 'preact/hooks';
import {
  api,
  type Deployment,
  type DeploymentStatus,
  isTerminal,
  type LogLine,
  type LogMessage,
  paths,
  wsUrl,
} from '../api';
import { ErrorNote, Loading, StatusBadge, Time, useConfirm } from '../components/ui';
import { useApp, useLive } from '../context';
import { useNow, useResource } from '../hooks';
import { canDeploy } from '../lib/access';
import { type AnsiSegment, parseAnsi, segmentAttrs, stripAnsi } from '../lib/ansi';
import { deploymentDuration, formatDuration, humanStatus, shortId, shortSha } from '../lib/format';
import { appendLines, emptyLog, follow, isAtBottom, type LogBuffer } from '../lib/log-buffer';
import { KIND_LABEL, logKind } from '../lib/log-kind';
import { links } from '../lib/route';

const POLL_MS = 2000;

type StreamState = 'connecting' | 'streaming' | 'polling' | 'ended';

/** Streams a deployment's log: WebSocket first, polling the deployment if the socket fails. */
function useDeploymentLog(id: string, token: string) {
  const [buf, setBuf] = useState<LogBuffer>(emptyLog);
  const [endStatus, setEndStatus] = useState<DeploymentStatus | null>(null);
  const [meta, setMeta] = useState<Deployment | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [state, setState] = useState<StreamState>('connecting');

  useEffect(() => {
    let disposed = false;
    let ws: WebSocket | null = null;
    let pollTimer: ReturnType<typeof setTimeout> | null = null;
    let pending: LogLine[] = [];
    let frame = 0;
    let ended = false;

    // Batch lines per animation frame so a burst of output is one render.
    const push = (lines: LogLine[]) => {
      pending.push(...lines);
      if (!frame) {
        frame = requestAnimationFrame(() => {
          frame = 0;
          const batch = pending;
          pending = [];
          if (!disposed) setBuf((b) => appendLines(b, batch));
        });
      }
    };

    const fetchMeta = async (): Promise<Deployment | null> => {
      try {
        const { deployment } = await api.deployment(id);
        if (disposed) return null;
        setMeta(deployment);
        setError(null);
        push(deployment.log);
        return deployment;
      } catch (e) {
        if (!disposed) setError(e);
        return null;
      }
    };

    const poll = async () => {
      const d = await fetchMeta();
      if (disposed) return;
      if (d && isTerminal(d.status)) {
        ended = true;
        setEndStatus(d.status);
        setState('ended');
        return;
      }
      pollTimer = setTimeout(poll, POLL_MS);
    };

    const connect = () => {
      try {
        ws = new WebSocket(wsUrl(paths.deploymentLogsWs(id), token, location));
      } catch {
        setState('polling');
        void poll();
        return;
      }
      ws.onopen = () => !disposed && setState('streaming');
      ws.onmessage = (ev) => {
        let msg: LogMessage;
        try {
          msg = JSON.parse(String(ev.data));
        } catch {
          return;
        }
        if (msg.type === 'line') {
          push([{ seq: msg.seq, ts: msg.ts, stream: msg.stream, text: msg.text }]);
        } else if (msg.type === 'end') {
          ended = true;
          setEndStatus(msg.status);
          setState('ended');
          void fetchMeta();
        }
      };
      ws.onclose = () => {
        if (disposed || ended) return;
        // The socket dropped before the end message: follow by polling instead.
        setState('polling');
        void poll();
      };
    };

    void fetchMeta().then((d) => {
      if (disposed) return;
      if (d && isTerminal(d.status)) setEndStatus((s) => s ?? d.status);
    });
    connect();

    return () => {
      disposed = true;
      if (frame) cancelAnimationFrame(frame);
      if (pollTimer) clearTimeout(pollTimer);
      if (ws) {
        ws.onclose = ws.onmessage = ws.onopen = null;
        ws.close();
      }
    };
  }, [id, token]);

  return { buf, endStatus, meta, setMeta, error, state };
}

export function DeploymentPage({ id }: { id: string }) {
  const { token, me } = useApp();
  const { buf, endStatus, meta, setMeta, error, state } = useDeploymentLog(id, token);
  const stack = useResource(`stack-of:${meta?.stack_id ?? ''}`, (signal) =>
    meta?.stack_id
      ? api.getStack(meta.stack_id, signal).then((r) => r.stack)
      : Promise.resolve(null),
  );
  const now = useNow(1000);
  const [confirmEl, confirm] = useConfirm();
  const [cancelError, setCancelError] = useState<unknown>(null);
  const [canceling, setCanceling] = useState(false);

  useLive((e) => {
    if (e.type === 'deployment' && e.deployment.id === id) {
      setMeta((m) => ({ ...(m ?? {}), ...e.deployment }));
    }
  });

  const status: DeploymentStatus | undefined =
    meta && isTerminal(meta.status) ? meta.status : (endStatus ?? meta?.status);
  const finished = isTerminal(status);
  const stackName = stack.data?.name ?? meta?.stack_id ?? '';

  const cancel = async () => {
    const r = await confirm({
      title: 'Cancel this deployment?',
      body: (
        <p>The running docker compose process is stopped and the deployment ends as canceled.</p>
      ),
      confirmLabel: 'Cancel deployment',
      danger: true,
    });
    if (!r.ok) return;
    setCanceling(true);
    setCancelError(null);
    try {
      const { deployment } = await api.cancelDeployment(id);
      setMeta((m) => ({ ...(m ?? {}), ...deployment }));
    } catch (e) {
      setCancelError(e);
    } finally {
      setCanceling(false);
    }
  };

  return (
    <section class="page" aria-labelledby="dep-title">
      {confirmEl}
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={links.stacks()}>Stacks</a> <span aria-hidden="true">/</span>{' '}
        {stackName ? (
          <a href={links.stack(stackName, 'deployments')}>{stackName}</a>
        ) : (
          <span>…</span>
        )}{' '}
        <span aria-hidden="true">/</span> <span>Deployment {shortId(id)}</span>
      </nav>
      <div class="page-head">
        <h1 id="dep-title" tabIndex={-1}>
          Deployment <span class="mono">{shortId(id)}</span>{' '}
          {status ? <StatusBadge status={status} testId="deployment-status" /> : null}
        </h1>
        <div class="head-actions">
          {meta && !finished && canDeploy(me) ? (
            <button
              type="button"
              class="btn btn-danger-ghost"
              onClick={cancel}
              disabled={canceling}
              data-testid="cancel-deployment"
            >
              {canceling ? 'Canceling…' : 'Cancel'}
            </button>
          ) : null}
          {stackName ? (
            <a class="btn" href={links.stack(stackName)}>
              Stack
            </a>
          ) : null}
        </div>
      </div>
      <ErrorNote error={cancelError} prefix="Cancel failed" />
      {error && !meta ? <ErrorNote error={error} prefix="Could not load the deployment" /> : null}
      {meta ? (
        <dl class="facts" data-testid="deployment-facts">
          <div>
            <dt>Trigger</dt>
            <dd>{meta.trigger}</dd>
          </div>
          <div>
            <dt>Commit</dt>
            <dd class="mono" title={meta.git_commit ?? undefined}>
              {shortSha(meta.git_commit)}
            </dd>
          </div>
          <div>
            <dt>Version</dt>
            <dd class="mono" title={meta.version_id ?? undefined}>
              {shortId(meta.version_id)}
            </dd>
          </div>
          <div>
            <dt>Queued</dt>
            <dd>
              <Time iso={meta.queued_at} />
            </dd>
          </div>
          <div>
            <dt>Duration</dt>
            <dd>{formatDuration(deploymentDuration(meta, now))}</dd>
          </div>
        </dl>
      ) : !error ? (
        <Loading label="Loading deployment…" />
      ) : null}
      {meta?.error && meta.error !== humanStatus(meta.status) ? (
        <div class="error-note" role="alert" data-testid="deployment-error">
          <strong>{humanStatus(meta.status)}: </strong>
          {meta.error}
        </div>
      ) : null}
      <LogView buf={buf} state={state} status={status} deploymentId={id} />
    </section>
  );
}

const segCache = new WeakMap<LogLine, AnsiSegment[]>();
function segments(line: LogLine): AnsiSegment[] {
  let s = segCache.get(line);
  if (!s) {
    s = parseAnsi(line.text);
    segCache.set(line, s);
  }
  return s;
}

function LogView({
  buf,
  state,
  status,
  deploymentId,
}: {
  buf: LogBuffer;
  state: StreamState;
  status: DeploymentStatus | undefined;
  deploymentId: string;
}) {
  const box = useRef<HTMLDivElement>(null);
  const [fol, dispatch] = useReducer(follow, { following: true, unseen: 0 });
  const [colours, setColours] = useState(true);
  const [wrap, setWrap] = useState(true);
  const [showTimes, setShowTimes] = useState(false);
  const seen = useRef(0);
  const programmatic = useRef(false);

  // New lines: stick to the bottom when following, otherwise count them.
  useLayoutEffect(() => {
    const added = buf.lines.length + buf.dropped - seen.current;
    seen.current = buf.lines.length + buf.dropped;
    if (added <= 0) return;
    const el = box.current;
    if (fol.following && el) {
      programmatic.current = true;
      el.scrollTop = el.scrollHeight;
    } else dispatch({ type: 'lines', count: added });
  }, [buf]);

  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    if (programmatic.current) {
      programmatic.current = false;
      return;
    }
    dispatch({ type: 'scrolled', atBottom: isAtBottom(el) });
  };

  const jump = () => {
    const el = box.current;
    dispatch({ type: 'jump' });
    if (el) {
      programmatic.current = true;
      el.scrollTop = el.scrollHeight;
    }
  };

  const download = () => {
    const text = buf.lines
      .map((l) => `${l.ts ?? ''}\t${l.stream}\t${stripAnsi(l.text)}`)
      .join('\n');
    const url = URL.createObjectURL(new Blob([text], { type: 'text/plain' }));
    const a = document.createElement('a');
    a.href = url;
    a.download = `deployment-${deploymentId}.log`;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 1000);
  };

  const finished = isTerminal(status);
  return (
    <section class="logpanel" aria-labelledby="log-title">
      <div class="log-toolbar">
        <h2 id="log-title">Log</h2>
        <span
          class={`stream-state stream-${state}`}
          data-testid="log-stream-state"
          data-state={state}
        >
          {state === 'streaming'
            ? 'live'
            : state === 'connecting'
              ? 'connecting…'
              : state === 'polling'
                ? 'refreshing every 2 s'
                : 'complete'}
        </span>
        <span class="spacer" />
        <label class="check check-sm">
          <input
            type="checkbox"
            checked={colours}
            onChange={(e) => setColours(e.currentTarget.checked)}
          />
          Colours
        </label>
        <label class="check check-sm">
          <input
            type="checkbox"
            checked={wrap}
            onChange={(e) => setWrap(e.currentTarget.checked)}
          />
          Wrap
        </label>
        <label class="check check-sm">
          <input
            type="checkbox"
            checked={showTimes}
            onChange={(e) => setShowTimes(e.currentTarget.checked)}
          />
          Times
        </label>
        <button type="button" class="btn btn-sm" onClick={download} disabled={!buf.lines.length}>
          Download
        </button>
      </div>
      <div class="log-outer">
        <div
          ref={box}
          class={`log ${wrap ? 'log-wrap' : ''}`}
          role="log"
          aria-live="off"
          aria-label="Deployment log"
          // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable log must be keyboard-scrollable
          tabIndex={0}
          onScroll={onScroll}
          data-testid="log-view"
          data-following={fol.following ? 'true' : 'false'}
        >
          {buf.dropped ? (
            <div class="log-line log-system">… {buf.dropped} earlier lines not shown</div>
          ) : null}
          {buf.lines.length === 0 ? (
            <div class="log-empty muted">
              {finished ? 'This deployment wrote no output.' : 'Waiting for output…'}
            </div>
          ) : null}
          {buf.lines.map((l) => (
            <div
              key={l.seq}
              class={`log-line log-${logKind(l)}`}
              data-testid="log-line"
              data-stream={l.stream}
              data-kind={logKind(l)}
            >
              {showTimes ? <span class="log-ts">{(l.ts ?? '').slice(11, 19)}</span> : null}
              <span class="log-stream">{KIND_LABEL[logKind(l)]}</span>
              <span class="log-text">
                {colours
                  ? segments(l).map((seg, i) => {
                      const a = segmentAttrs(seg.style);
                      return a.className || a.style ? (
                        <span key={i} class={a.className || undefined} style={a.style || undefined}>
                          {seg.text}
                        </span>
                      ) : (
                        seg.text
                      );
                    })
                  : segments(l)
                      .map((seg) => seg.text)
                      .join('')}
              </span>
            </div>
          ))}
          {finished ? (
            <div class={`log-end log-end-${status}`} data-testid="log-end" data-status={status}>
              Deployment {humanStatus(status!)}
            </div>
          ) : null}
        </div>
        {!fol.following ? (
          <button
            type="button"
            class="btn btn-primary jump"
            onClick={jump}
            data-testid="jump-latest"
          >
            ↓ Jump to latest{fol.unseen ? ` (${fol.unseen} new)` : ''}
          </button>
        ) : null}
      </div>
      <output class="sr-only">{finished ? `Deployment ${humanStatus(status!)}` : ''}</output>
    </section>
  );
}
