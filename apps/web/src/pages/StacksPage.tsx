import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Drift, isGitStack, type StackSummary } from '../api';
import { DriftBadge } from '../components/DriftBadge';
import { UpdateBadge } from '../components/UpdateBadge';
import { Empty, ErrorNote, Loading, StatusBadge, Time } from '../components/ui';
import { useApp, useLive } from '../context';
import { useResource } from '../hooks';
import { canAdmin } from '../lib/access';
import { shortId, shortSha } from '../lib/format';
import { applyToStacks } from '../lib/live-state';
import { links } from '../lib/route';

/** Drift checks on the list: at most this many at once, each stack at most once a minute. */
const DRIFT_CONCURRENCY = 2;
/**
 * Past this many git stacks the list checks drift only when asked (the Check button): each
 * check runs compose on the server, and a thousand of them would follow every page visit.
 */
const AUTO_DRIFT_MAX_STACKS = 25;
const DRIFT_MAX_AGE_MS = 60_000;

type DriftEntry = { drift?: Drift; error?: unknown; loading: boolean; at: number };

export function StacksPage() {
  const { me } = useApp();
  // The summary view, revalidated by ETag: one request for the whole list, 304 when unchanged.
  const stacks = useResource('stacks', (signal) => api.listStackSummaries(signal));
  const drift = useDriftChecks(stacks.data ?? []);

  useLive((e) => {
    if (e.type === 'resync') stacks.reload();
    else stacks.setData((prev) => (prev ? applyToStacks(prev, e) : prev));
  });

  const list = stacks.data ?? [];
  return (
    <section class="page" aria-labelledby="stacks-title">
      <div class="page-head">
        <h1 id="stacks-title" tabIndex={-1}>
          Stacks
        </h1>
        {canAdmin(me) ? (
          <a class="btn btn-primary" href={links.newStack()} data-testid="new-stack">
            New stack
          </a>
        ) : null}
      </div>
      {stacks.error ? <ErrorNote error={stacks.error} prefix="Could not load stacks" /> : null}
      {stacks.loading && !stacks.data ? <Loading label="Loading stacks…" /> : null}
      {stacks.data && list.length === 0 ? (
        <Empty title="No stacks yet">
          <p>A stack is one compose project: paste a compose file or point at a git repository.</p>
          {canAdmin(me) ? (
            <a class="btn btn-primary" href={links.newStack()}>
              Create your first stack
            </a>
          ) : null}
        </Empty>
      ) : null}
      {list.length > 0 ? (
        <div class="table-wrap">
          <table class="table stacks-table" data-testid="stacks-table">
            <thead>
              <tr>
                <th scope="col">Stack</th>
                <th scope="col">Status</th>
                <th scope="col">Last deployment</th>
                <th scope="col">Version</th>
                <th scope="col">Drift</th>
                <th scope="col">Polling</th>
              </tr>
            </thead>
            <tbody>
              {list.map((s) => (
                <StackRow
                  key={s.id}
                  stack={s}
                  drift={drift.entries[s.id]}
                  onCheck={() => drift.check(s)}
                />
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}

function StackRow({
  stack: s,
  drift,
  onCheck,
}: {
  stack: StackSummary;
  drift: DriftEntry | undefined;
  onCheck: () => void;
}) {
  const last = s.last_deployment;
  return (
    <tr data-testid="stack-row" data-stack={s.name}>
      <th scope="row" data-label="Stack">
        <a href={links.stack(s.name)} class="stack-link" data-testid="stack-link">
          {s.name}
        </a>{' '}
        <UpdateBadge stack={s} />
        <span class="sub muted">{isGitStack(s) ? sourceLabel(s) : 'inline compose'}</span>
      </th>
      <td data-label="Status">
        <StatusBadge status={s.status} testId="stack-status" />
      </td>
      <td data-label="Last deployment">
        {last ? (
          <a href={links.deployment(last.id)} class="plain-link" data-testid="last-deployment">
            <StatusBadge status={last.status} testId="last-deployment-status" />{' '}
            <span class="muted">
              <Time iso={last.finished_at} />
            </span>
          </a>
        ) : (
          <span class="muted">never deployed</span>
        )}
      </td>
      <td data-label="Version">
        {s.current_version_id ? (
          <span class="mono" title={s.current_version_id}>
            {shortId(s.current_version_id)}
          </span>
        ) : (
          <span class="muted">—</span>
        )}
        {s.deployed_commit ? (
          <span class="sub mono muted" title={s.deployed_commit}>
            @{shortSha(s.deployed_commit)}
          </span>
        ) : null}
      </td>
      <td data-label="Drift">
        <DriftCell entry={drift} onCheck={onCheck} />
      </td>
      <td data-label="Polling">
        <PollCell stack={s} />
      </td>
    </tr>
  );
}

function sourceLabel(s: StackSummary): string {
  const url = (s.repo_url ?? '').replace(/^https?:\/\//, '').replace(/\.git$/, '');
  return s.repo_branch ? `${url} · ${s.repo_branch}` : url;
}

function DriftCell({ entry, onCheck }: { entry: DriftEntry | undefined; onCheck: () => void }) {
  if (entry?.loading) return <span class="muted">checking…</span>;
  if (entry?.drift) {
    return (
      <button type="button" class="linklike" onClick={onCheck} title="Check again">
        <DriftBadge drift={entry.drift} />
      </button>
    );
  }
  return (
    <span>
      {entry?.error ? (
        <span class="badge badge-unknown" title={String((entry.error as Error).message)}>
          unknown
        </span>
      ) : null}{' '}
      <button type="button" class="btn btn-sm" onClick={onCheck} data-testid="check-drift">
        Check
      </button>
    </span>
  );
}

function PollCell({ stack }: { stack: StackSummary }) {
  const poll = stack.poll;
  const interval = stack.reconcile_interval_seconds ?? 0;
  if (interval === 0 && !poll?.last_poll_at) return <span class="muted">off</span>;
  if (!poll?.last_poll_at) return <span class="muted">every {interval}s · not yet</span>;
  return (
    <span data-testid="poll-health">
      {poll.last_error ? (
        <span class="badge badge-failed" title={poll.last_error}>
          failing{poll.failures ? ` ×${poll.failures}` : ''}
        </span>
      ) : (
        <span class="badge badge-succeeded">ok</span>
      )}{' '}
      <span class="muted">
        <Time iso={poll.last_poll_at} />
      </span>
      {poll.last_error ? <span class="sub poll-error">{poll.last_error}</span> : null}
    </span>
  );
}

/**
 * Drift for the list: git stacks are checked automatically (bounded concurrency,
 * at most once a minute each); any stack can be checked on demand.
 */
function useDriftChecks(stacks: StackSummary[]) {
  const [entries, setEntries] = useState<Record<string, DriftEntry>>({});
  const queue = useRef<StackSummary[]>([]);
  const running = useRef(0);
  const alive = useRef(true);
  const entriesRef = useRef(entries);
  entriesRef.current = entries;

  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );

  const pump = () => {
    while (running.current < DRIFT_CONCURRENCY && queue.current.length) {
      const s = queue.current.shift()!;
      running.current++;
      setEntries((e) => ({ ...e, [s.id]: { ...e[s.id], loading: true, at: Date.now() } }));
      api.drift(s.id).then(
        (drift) => done(s.id, { drift, loading: false, at: Date.now() }),
        (error) => done(s.id, { error, loading: false, at: Date.now() }),
      );
    }
  };
  const done = (id: string, entry: DriftEntry) => {
    running.current--;
    if (!alive.current) return;
    setEntries((e) => ({ ...e, [id]: entry }));
    pump();
  };
  const enqueue = (s: StackSummary) => {
    if (queue.current.some((q) => q.id === s.id) || entriesRef.current[s.id]?.loading) return;
    queue.current.push(s);
    pump();
  };

  const gitIds = stacks
    .filter(isGitStack)
    .map((s) => `${s.id}:${s.deployed_commit ?? ''}:${s.last_deployment?.id ?? ''}`)
    .join(',');
  // Keyed on the git stacks' identity, so a poll that changes nothing re-checks nothing.
  useEffect(() => {
    const now = Date.now();
    const git = stacks.filter(isGitStack);
    if (git.length > AUTO_DRIFT_MAX_STACKS) return;
    for (const s of git) {
      const e = entriesRef.current[s.id];
      if (!e || (!e.loading && now - e.at > DRIFT_MAX_AGE_MS)) enqueue(s);
    }
  }, [gitIds]);

  return { entries, check: enqueue };
}
