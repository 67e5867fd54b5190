import { useState } from 'preact/hooks';
import { api, type ImageUpdates, type Stack } from '../api';
import { UpdateBadge, UpdateCheckedAt } from './UpdateBadge';
import { ErrorNote, Loading } from './ui';

/** `sha256:abcdef…` shortened for a table cell; the whole digest is in the title. */
const shortDigest = (d: string | null) => (d ? `${d.replace(/^sha256:/, '').slice(0, 12)}` : '—');

/**
 * The stack's image updates: the last check's result from the stack, and a check now
 * (GET .../updates) with each service's running and registry digests.
 */
export function ImageUpdatesPanel({ stack }: { stack: Stack }) {
  const [result, setResult] = useState<ImageUpdates | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [loading, setLoading] = useState(false);
  const check = async () => {
    setLoading(true);
    setError(null);
    try {
      setResult(await api.updates(stack.id));
    } catch (e) {
      setError(e);
    } finally {
      setLoading(false);
    }
  };
  const interval = stack.update_check_interval_seconds ?? 0;
  return (
    <section class="panel" aria-labelledby="updates-title" data-testid="updates-panel">
      <div class="panel-head">
        <h2 id="updates-title">Image updates</h2>
        <button type="button" class="btn btn-sm" onClick={check} data-testid="check-updates">
          Check now
        </button>
      </div>
      <p class="muted">
        <UpdateBadge stack={stack} />{' '}
        {interval > 0 ? `Checked every ${interval}s` : 'Scheduled checks are off'}
        {stack.auto_update ? ', newer images deploy automatically' : ''} · last check{' '}
        <UpdateCheckedAt stack={stack} />
      </p>
      {error ? <ErrorNote error={error} prefix="Could not check for updates" /> : null}
      {loading ? <Loading label="Asking the registries…" /> : null}
      {result ? (
        <div class="table-wrap">
          <table class="table" data-testid="updates-table">
            <thead>
              <tr>
                <th scope="col">Service</th>
                <th scope="col">Image</th>
                <th scope="col">Running</th>
                <th scope="col">Registry</th>
                <th scope="col">Update</th>
              </tr>
            </thead>
            <tbody>
              {result.services.map((s) => (
                <tr key={s.service} data-testid="update-row" data-service={s.service}>
                  <td data-label="Service">{s.service}</td>
                  <td data-label="Image" class="mono break">
                    {s.image}
                  </td>
                  <td data-label="Running" class="mono" title={s.running_digest ?? ''}>
                    {shortDigest(s.running_digest)}
                  </td>
                  <td data-label="Registry" class="mono" title={s.registry_digest ?? ''}>
                    {shortDigest(s.registry_digest)}
                  </td>
                  <td data-label="Update">
                    {s.error ? (
                      <span class="error-text">{s.error}</span>
                    ) : s.update_available ? (
                      <span class="badge badge-update">available</span>
                    ) : (
                      <span class="muted">up to date</span>
                    )}
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
