import { useEffect } from 'preact/hooks';
import { api, type ContainerStats, type Drift, isGitStack, type Stack } from '../api';
import { useResource } from '../hooks';
import { formatBytes, formatDuration, shortSha } from '../lib/format';
import { swarmNodes } from '../lib/swarm-nodes';
import { DriftBadge } from './DriftBadge';
import { ImageUpdatesPanel } from './ImageUpdatesPanel';
import { Empty, ErrorNote, Loading, StatusBadge, Time } from './ui';

export function OverviewTab({ stack, refreshKey }: { stack: Stack; refreshKey: number }) {
  const services = useResource(`services:${stack.id}`, (signal) =>
    api.services(stack.id, signal).then((r) => r.services),
  );
  const drift = useResource(`drift:${stack.id}`, (signal) => api.drift(stack.id, signal));
  const stats = useResource(`stats:${stack.id}`, (signal) => api.stats(stack.id, signal));
  // A Swarm stack's rows are tasks, each on a node of the Swarm.
  const swarm = stack.engine === 'swarm';
  // CPU, memory, network and restarts per container (compose stacks only).
  const usage = useResource(`container-stats:${stack.id}`, (signal) =>
    swarm
      ? Promise.resolve(new Map<string, ContainerStats>())
      : api
          .containerStats(stack.id, signal)
          .then((r) => new Map(r.containers.map((c) => [c.container, c]))),
  );

  // Refresh when the parent says something changed.
  useEffect(() => {
    if (refreshKey === 0) return;
    services.reload();
    drift.reload();
    stats.reload();
    usage.reload();
  }, [refreshKey]);

  return (
    <div class="overview">
      <section class="panel" aria-labelledby="services-title">
        <div class="panel-head">
          <h2 id="services-title">{swarm ? 'Swarm services' : 'Services'}</h2>
          <button
            type="button"
            class="btn btn-sm"
            onClick={() => {
              services.reload();
              usage.reload();
            }}
            data-testid="refresh-services"
          >
            Refresh
          </button>
        </div>
        {services.error ? (
          <ErrorNote error={services.error} prefix="Could not load services" />
        ) : null}
        {services.loading && !services.data ? <Loading label="Loading services…" /> : null}
        {services.data && services.data.length === 0 ? (
          <Empty title={swarm ? 'No tasks' : 'No containers'}>
            Nothing of this stack is running on {swarm ? 'the Swarm' : 'the host'}.
          </Empty>
        ) : null}
        {swarm && services.data?.length ? <SwarmNodes rows={services.data} /> : null}
        {services.data?.length ? (
          <div class="table-wrap">
            <table class="table" data-testid="services-table">
              <thead>
                <tr>
                  <th scope="col">Service</th>
                  <th scope="col">{swarm ? 'Task' : 'Container'}</th>
                  {swarm ? <th scope="col">Node</th> : null}
                  <th scope="col">State</th>
                  <th scope="col">Health</th>
                  <th scope="col">Image</th>
                  {swarm ? null : (
                    <>
                      <th scope="col">CPU</th>
                      <th scope="col">Memory</th>
                      <th scope="col" title="received / sent">
                        Network
                      </th>
                      <th scope="col">Restarts</th>
                    </>
                  )}
                </tr>
              </thead>
              <tbody>
                {services.data.map((row) => (
                  <tr key={row.container} data-testid="service-row" data-service={row.service}>
                    <th scope="row" data-label="Service">
                      {row.service}
                    </th>
                    <td data-label={swarm ? 'Task' : 'Container'} class="mono">
                      {row.container}
                    </td>
                    {swarm ? (
                      <td data-label="Node" class="mono" data-testid="service-node">
                        {row.node || '—'}
                      </td>
                    ) : null}
                    <td data-label="State" class="svc-state">
                      <StatusBadge status={row.state || 'unknown'} />
                    </td>
                    <td data-label="Health">
                      {row.health ? (
                        <StatusBadge status={row.health} />
                      ) : (
                        <span class="muted">—</span>
                      )}
                    </td>
                    <td data-label="Image" class="mono break">
                      {row.image}
                    </td>
                    {swarm ? null : <UsageCells stats={usage.data?.get(row.container)} />}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>

      <section class="panel" aria-labelledby="drift-title" data-testid="drift-panel">
        <div class="panel-head">
          <h2 id="drift-title">Drift</h2>
          <button
            type="button"
            class="btn btn-sm"
            onClick={drift.reload}
            data-testid="refresh-drift"
          >
            Check again
          </button>
        </div>
        {drift.error ? <ErrorNote error={drift.error} prefix="Could not check drift" /> : null}
        {drift.loading && !drift.data ? <Loading label="Checking drift…" /> : null}
        {drift.data ? <DriftDetails drift={drift.data} git={isGitStack(stack)} /> : null}
      </section>

      <ImageUpdatesPanel stack={stack} />

      <section class="panel" aria-labelledby="stats-title">
        <h2 id="stats-title">Deployments</h2>
        {stats.error ? <ErrorNote error={stats.error} prefix="Could not load stats" /> : null}
        {stats.data ? (
          <dl class="stats" data-testid="stats">
            <div>
              <dt>Total</dt>
              <dd>{stats.data.deployments_total}</dd>
            </div>
            <div>
              <dt>Succeeded</dt>
              <dd class="ok">{stats.data.succeeded}</dd>
            </div>
            <div>
              <dt>Failed</dt>
              <dd class="bad">{stats.data.failed}</dd>
            </div>
            <div>
              <dt>Canceled</dt>
              <dd>{stats.data.canceled}</dd>
            </div>
            <div>
              <dt>Mean duration</dt>
              <dd>{formatDuration(stats.data.mean_duration_ms)}</dd>
            </div>
            <div>
              <dt>Last deployed</dt>
              <dd>
                <Time iso={stats.data.last_deployed_at} />
              </dd>
            </div>
          </dl>
        ) : stats.loading ? (
          <Loading />
        ) : null}
        <PollHealth stack={stack} />
      </section>
    </div>
  );
}

function DriftDetails({ drift, git }: { drift: Drift; git: boolean }) {
  return (
    <div>
      <p>
        <DriftBadge drift={drift} />
      </p>
      {git && drift.git ? (
        <p class="muted">
          Deployed <span class="mono">{shortSha(drift.git.deployed_commit)}</span>, remote{' '}
          <span class="mono">{shortSha(drift.git.remote_commit)}</span>
          {drift.git.behind ? ' — a newer commit is waiting to be deployed.' : '.'}
        </p>
      ) : null}
      {drift.services.length ? (
        <ul class="drift-list" data-testid="drift-services">
          {drift.services.map((d, i) => (
            <li key={i}>
              <strong>{d.service}</strong>{' '}
              <span class="badge badge-drift">{d.type.replace('_', ' ')}</span>
              {d.expected !== undefined || d.actual !== undefined ? (
                <span class="muted">
                  {' '}
                  expected <code>{show(d.expected)}</code>, found <code>{show(d.actual)}</code>
                </span>
              ) : null}
            </li>
          ))}
        </ul>
      ) : drift.in_sync ? (
        <p class="muted">The running containers match the deployed version.</p>
      ) : null}
    </div>
  );
}

function show(v: unknown): string {
  if (v === null || v === undefined) return 'nothing';
  return typeof v === 'string' ? v : JSON.stringify(v);
}

function PollHealth({ stack }: { stack: Stack }) {
  const interval = stack.reconcile_interval_seconds ?? 0;
  const poll = stack.poll;
  return (
    <p class="muted poll-line" data-testid="poll-line">
      {interval > 0 ? `Reconciles every ${interval}s` : 'Reconciling is off'}
      {poll?.last_poll_at ? (
        <>
          {' · last check '}
          <Time iso={poll.last_poll_at} />
        </>
      ) : null}
      {poll?.last_error ? (
        <span class="error-text">
          {' · '}failing{poll.failures ? ` (${poll.failures}×)` : ''}: {poll.last_error}
        </span>
      ) : null}
    </p>
  );
}

/** Which nodes a Swarm stack's tasks run on, and how many of them run there. */
function SwarmNodes({ rows }: { rows: Parameters<typeof swarmNodes>[0] }) {
  return (
    <ul class="swarm-nodes" data-testid="swarm-nodes" aria-label="Nodes">
      {swarmNodes(rows).map((n) => (
        <li key={n.node} data-testid="swarm-node" data-node={n.node}>
          <span class="mono">{n.node}</span>: {n.running} of {n.tasks} task
          {n.tasks === 1 ? '' : 's'} running ({n.services.join(', ')})
        </li>
      ))}
    </ul>
  );
}

/** A container's stats cells on the services table; dashes until (or unless) they are known. */
function UsageCells({ stats: u }: { stats: ContainerStats | undefined }) {
  const cpu = u?.cpu_percent;
  return (
    <>
      <td data-label="CPU" class="num" data-testid="svc-cpu">
        {cpu === null || cpu === undefined ? '—' : `${cpu.toFixed(1)} %`}
      </td>
      <td data-label="Memory" class="num" data-testid="svc-memory">
        {u?.memory_usage_bytes == null
          ? '—'
          : `${formatBytes(u.memory_usage_bytes)} / ${formatBytes(u.memory_limit_bytes)}`}
      </td>
      <td data-label="Network" class="num" data-testid="svc-network">
        {u?.network_rx_bytes == null
          ? '—'
          : `${formatBytes(u.network_rx_bytes)} / ${formatBytes(u.network_tx_bytes)}`}
      </td>
      <td data-label="Restarts" class="num" data-testid="svc-restarts">
        {u?.restart_count ?? '—'}
      </td>
    </>
  );
}
