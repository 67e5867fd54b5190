import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Stack, type Version, type VersionDetail } from '../api';
import { useApp } from '../context';
import { useResource } from '../hooks';
import { canDeploy } from '../lib/access';
import type { FileDiff } from '../lib/diff';
import { shortId, shortSha } from '../lib/format';
import { links } from '../lib/route';
import { Empty, ErrorNote, Loading, Time, useConfirm } from './ui';

export function VersionsTab({ stack, refreshKey }: { stack: Stack; refreshKey: number }) {
  const { me } = useApp();
  const versions = useResource(`versions:${stack.id}`, (signal) =>
    api.versions(stack.id, signal).then((r) => r.versions),
  );
  const [from, setFrom] = useState<string | null>(null);
  const [to, setTo] = useState<string | null>(null);
  const [confirmEl, confirm] = useConfirm();
  const [rollbackError, setRollbackError] = useState<{ id: string; error: unknown } | null>(null);
  const [busy, setBusy] = useState<string | null>(null);

  // Refresh when the parent says something changed.
  useEffect(() => {
    if (refreshKey) versions.reload();
  }, [refreshKey]);

  const list = versions.data ?? [];
  // Default comparison: the version before the current one → the current one.
  const currentIdx = Math.max(
    0,
    list.findIndex((v) => v.current),
  );
  const toId = to ?? list[currentIdx]?.id ?? null;
  const fromId = from ?? list[currentIdx + 1]?.id ?? null;

  const rollback = async (v: Version) => {
    const r = await confirm({
      title: `Roll back to version ${shortId(v.id)}?`,
      body: (
        <p>
          This version is deployed again from what it recorded; neither git nor the network is
          needed.
        </p>
      ),
      confirmLabel: 'Roll back',
      danger: true,
    });
    if (!r.ok) return;
    setBusy(v.id);
    setRollbackError(null);
    try {
      const { deployment } = await api.rollback(stack.id, v.id);
      location.hash = links.deployment(deployment.id);
    } catch (error) {
      setRollbackError({ id: v.id, error });
    } finally {
      setBusy(null);
    }
  };

  return (
    <div>
      {confirmEl}
      {versions.error ? (
        <ErrorNote error={versions.error} prefix="Could not load versions" />
      ) : null}
      {versions.loading && !versions.data ? <Loading label="Loading versions…" /> : null}
      {versions.data && list.length === 0 ? (
        <Empty title="No versions yet">Every distinct state that gets deployed is kept here.</Empty>
      ) : null}
      {list.length ? (
        <div class="table-wrap">
          <table class="table" data-testid="versions-table">
            <caption class="sr-only">Versions, newest first. Pick two to compare.</caption>
            <thead>
              <tr>
                <th scope="col">Compare</th>
                <th scope="col">Version</th>
                <th scope="col">Commit</th>
                <th scope="col">Created</th>
                <th scope="col">Last deployed</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((v) => (
                <tr
                  key={v.id}
                  data-testid="version-row"
                  data-version={v.id}
                  data-current={v.current ? 'true' : 'false'}
                >
                  <td data-label="Compare" class="compare-cell">
                    <label class="radio-sm" title="Compare from this version">
                      <input
                        type="radio"
                        name="diff-from"
                        checked={fromId === v.id}
                        onChange={() => setFrom(v.id)}
                        aria-label={`Compare from ${shortId(v.id)}`}
                      />
                      from
                    </label>
                    <label class="radio-sm" title="Compare to this version">
                      <input
                        type="radio"
                        name="diff-to"
                        checked={toId === v.id}
                        onChange={() => setTo(v.id)}
                        aria-label={`Compare to ${shortId(v.id)}`}
                      />
                      to
                    </label>
                  </td>
                  <th scope="row" data-label="Version">
                    <span class="mono" title={`sha256 ${v.sha256}`}>
                      {shortId(v.id)}
                    </span>{' '}
                    {v.current ? (
                      <span class="badge badge-succeeded" data-testid="version-current">
                        current
                      </span>
                    ) : null}
                    <span class="sub mono muted">sha256:{v.sha256.slice(0, 12)}</span>
                  </th>
                  <td data-label="Commit" class="mono">
                    {shortSha(v.git_commit)}
                  </td>
                  <td data-label="Created">
                    <Time iso={v.created_at} />
                  </td>
                  <td data-label="Last deployed">
                    <Time iso={v.last_deployed_at} />
                  </td>
                  <td class="cell-actions">
                    {v.current || !canDeploy(me) ? null : (
                      <button
                        type="button"
                        class="btn btn-sm"
                        disabled={!!busy}
                        onClick={() => void rollback(v)}
                        data-testid="rollback-version"
                      >
                        {busy === v.id ? 'Rolling back…' : 'Roll back to this'}
                      </button>
                    )}
                    {rollbackError?.id === v.id ? (
                      <ErrorNote error={rollbackError.error} prefix="Roll back failed" />
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {fromId && toId && fromId !== toId ? (
        <VersionDiff stack={stack.id} from={fromId} to={toId} />
      ) : null}
      {list.length === 1 ? <p class="muted">Only one version so far: nothing to compare.</p> : null}
    </div>
  );
}

function VersionDiff({ stack, from, to }: { stack: string; from: string; to: string }) {
  const cache = useRef(new Map<string, Promise<VersionDetail>>());
  const get = (id: string, signal: AbortSignal) => {
    let p = cache.current.get(id);
    if (!p) {
      p = api.version(stack, id, signal).then((r) => r.version);
      p.catch(() => cache.current.delete(id));
      cache.current.set(id, p);
    }
    return p;
  };
  const diff = useResource(`diff:${from}:${to}`, async (signal) => {
    // The diff library is loaded only when a comparison is shown.
    const [a, b, { diffVersions }] = await Promise.all([
      get(from, signal),
      get(to, signal),
      import('../lib/diff'),
    ]);
    return diffVersions(a, b);
  });
  const [showSame, setShowSame] = useState(false);
  const files = diff.data ?? [];
  const changed = files.filter((f) => f.status !== 'unchanged');
  return (
    <section class="panel" aria-labelledby="diff-title" data-testid="version-diff">
      <h2 id="diff-title">
        Changes from <span class="mono">{shortId(from)}</span> to{' '}
        <span class="mono">{shortId(to)}</span>
      </h2>
      {diff.error ? <ErrorNote error={diff.error} prefix="Could not load the versions" /> : null}
      {diff.loading ? <Loading label="Comparing…" /> : null}
      {diff.data && changed.length === 0 ? (
        <p class="muted">These versions have the same content.</p>
      ) : null}
      {(showSame ? files : changed).map((f) => (
        <FileDiffView key={f.path} file={f} />
      ))}
      {diff.data && files.length > changed.length ? (
        <button type="button" class="btn btn-sm" onClick={() => setShowSame(!showSame)}>
          {showSame ? 'Hide' : 'Show'} {files.length - changed.length} unchanged file
          {files.length - changed.length === 1 ? '' : 's'}
        </button>
      ) : null}
    </section>
  );
}

function FileDiffView({ file }: { file: FileDiff }) {
  return (
    <details
      class="filediff"
      open={file.status !== 'unchanged'}
      data-testid="file-diff"
      data-path={file.path}
    >
      <summary>
        <span class="mono">{file.path}</span>{' '}
        <span class={`badge badge-file-${file.status}`}>{file.status}</span>{' '}
        <span class="diffstat">
          <span class="add">+{file.added}</span> <span class="del">−{file.removed}</span>
        </span>
      </summary>
      <div class="diff-body">
        {file.rows.map((r, i) =>
          r.kind === 'skip' ? (
            <div key={i} class="diff-row diff-skip">
              <span>
                ⋯ {r.count} unchanged line{r.count === 1 ? '' : 's'}
              </span>
            </div>
          ) : (
            <div key={i} class={`diff-row diff-${r.kind}`}>
              <span class="ln" aria-hidden="true">
                {r.oldNo ?? ''}
              </span>
              <span class="ln" aria-hidden="true">
                {r.newNo ?? ''}
              </span>
              <span class="sign">{r.kind === 'add' ? '+' : r.kind === 'del' ? '−' : ' '}</span>
              <span class="code">{r.text}</span>
            </div>
          ),
        )}
      </div>
    </details>
  );
}
