import { useState } from 'preact/hooks';
import { api } from '../api';
import { Empty, ErrorNote, Loading, Time } from '../components/ui';
import { useResource } from '../hooks';

/** The audit log: every change and action, newest first, filtered by stack or key. */
export function AuditPage() {
  const [stack, setStack] = useState('');
  const [key, setKey] = useState('');
  const filter = { stack: stack.trim(), key: key.trim(), limit: 200 };
  const entries = useResource(`audit:${filter.stack}:${filter.key}`, (signal) =>
    api.audit(filter, signal).then((r) => r.entries),
  );
  const list = entries.data ?? [];
  return (
    <section class="page" aria-labelledby="audit-title">
      <div class="page-head">
        <h1 id="audit-title" tabIndex={-1}>
          Audit log
        </h1>
      </div>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Stack{' '}
          <input
            value={stack}
            onChange={(e) => setStack(e.currentTarget.value)}
            placeholder="any"
            data-testid="audit-stack"
          />
        </label>{' '}
        <label>
          Key{' '}
          <input
            value={key}
            onChange={(e) => setKey(e.currentTarget.value)}
            placeholder="any"
            data-testid="audit-key"
          />
        </label>
      </form>
      {entries.error ? (
        <ErrorNote error={entries.error} prefix="Could not load the audit log" />
      ) : null}
      {entries.loading && !entries.data ? <Loading label="Loading the audit log…" /> : null}
      {entries.data && list.length === 0 ? <Empty title="Nothing recorded yet" /> : null}
      {list.length ? (
        <div class="table-wrap">
          <table class="table" data-testid="audit-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Key</th>
                <th scope="col">Action</th>
                <th scope="col">Target</th>
                <th scope="col">Result</th>
                <th scope="col">Request</th>
              </tr>
            </thead>
            <tbody>
              {list.map((e, i) => (
                <tr key={`${e.at}:${i}`} data-testid="audit-row" data-result={e.result}>
                  <td data-label="When">
                    <Time iso={e.at} />
                  </td>
                  <td data-label="Key">{e.key_name ?? (e.via === 'system' ? 'system' : '—')}</td>
                  <td data-label="Action" class="mono">
                    {e.action}
                  </td>
                  <td data-label="Target">{e.target ?? '—'}</td>
                  <td data-label="Result">
                    <span class={`badge badge-${e.result === 'ok' ? 'succeeded' : 'failed'}`}>
                      {e.result}
                      {e.status ? ` (${e.status})` : ''}
                    </span>
                  </td>
                  <td data-label="Request" class="mono muted">
                    {e.request_id?.slice(0, 8) ?? '—'}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
