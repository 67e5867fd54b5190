import { type Deployment, isTerminal } from '../api';
import { useNow } from '../hooks';
import { deploymentDuration, formatDuration, shortId, shortSha } from '../lib/format';
import { links } from '../lib/route';
import { Empty, StatusBadge, Time } from './ui';

export function DeploymentsTable({
  deployments,
  onCancel,
}: {
  deployments: Deployment[];
  onCancel?: (d: Deployment) => void;
}) {
  const now = useNow(1000);
  if (deployments.length === 0) {
    return <Empty title="No deployments yet">Deploy the stack to see its history here.</Empty>;
  }
  return (
    <div class="table-wrap">
      <table class="table" data-testid="deployments-table">
        <thead>
          <tr>
            <th scope="col">Deployment</th>
            <th scope="col">Trigger</th>
            <th scope="col">Commit</th>
            <th scope="col">Queued</th>
            <th scope="col">Duration</th>
            <th scope="col">Error</th>
            <th scope="col">
              <span class="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {deployments.map((d) => (
            <tr
              key={d.id}
              data-testid="deployment-row"
              data-deployment={d.id}
              data-status={d.status}
            >
              <th scope="row" data-label="Deployment">
                <a href={links.deployment(d.id)} class="plain-link" data-testid="deployment-link">
                  <StatusBadge status={d.status} testId="deployment-status" />{' '}
                  <span class="mono muted">{shortId(d.id)}</span>
                </a>
              </th>
              <td data-label="Trigger">{d.trigger}</td>
              <td data-label="Commit" class="mono" title={d.git_commit ?? undefined}>
                {shortSha(d.git_commit)}
              </td>
              <td data-label="Queued">
                <Time iso={d.queued_at} />
              </td>
              <td data-label="Duration">{formatDuration(deploymentDuration(d, now))}</td>
              <td data-label="Error" class="cell-error">
                {d.error ? (
                  <span class="error-text" data-testid="deployment-error">
                    {d.error}
                  </span>
                ) : (
                  <span class="muted">—</span>
                )}
              </td>
              <td class="cell-actions">
                <a href={links.deployment(d.id)} class="btn btn-sm">
                  Log
                </a>
                {onCancel && !isTerminal(d.status) ? (
                  <button
                    type="button"
                    class="btn btn-sm btn-danger-ghost"
                    onClick={() => onCancel(d)}
                    data-testid="cancel-deployment"
                  >
                    Cancel
                  </button>
                ) : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
