import { useEffect, useRef, useState } from 'preact/hooks';
import { api, type Host } from '../api';
import { Empty, ErrorNote, Field, Loading, Time } from '../components/ui';
import { useApp } from '../context';
import { useAction, useResource } from '../hooks';
import { canAdmin } from '../lib/access';

/** How a host's last check reads at a glance. */
function HealthBadge({ host }: { host: Host }) {
  if (host.reachable === null) return <span class="badge badge-queued">not checked yet</span>;
  return host.reachable ? (
    <span class="badge badge-succeeded" data-testid="host-reachable">
      reachable
    </span>
  ) : (
    <span class="badge badge-failed" title={host.error ?? undefined} data-testid="host-unreachable">
      unreachable
    </span>
  );
}

const UNCHECKED_REFRESH_MS = 2_000;

/** Hosts (api.md "Hosts"): the engines stacks run on, their health, a form to add one. */
export function HostsPage() {
  const { me, toast } = useApp();
  const admin = canAdmin(me);
  const list = useResource('hosts', (signal) => api.hosts(signal).then((r) => r.hosts));
  const [adding, setAdding] = useState(false);
  const remove = useAction(async (h: Host) => {
    if (!window.confirm(`Delete the host "${h.name}"? Stacks must be moved off it first.`)) return;
    await api.deleteHost(h.id);
    list.reload();
    toast(`Deleted ${h.name}.`, 'success');
  });
  const hosts = list.data ?? [];
  // A host added a moment ago (or the server just started) is checked in the background:
  // ask again every few seconds until every host has an answer, instead of showing
  // "not checked yet" until the user reloads.
  const unchecked = hosts.some((h) => h.reachable === null);
  const reload = useRef(list.reload);
  reload.current = list.reload;
  useEffect(() => {
    if (!unchecked) return;
    const timer = setInterval(() => reload.current(), UNCHECKED_REFRESH_MS);
    return () => clearInterval(timer);
  }, [unchecked]);
  return (
    <section class="page" aria-labelledby="hosts-title">
      <div class="page-head">
        <h1 id="hosts-title" tabIndex={-1}>
          Hosts
        </h1>
        {admin && !adding ? (
          <div class="head-actions">
            <button
              type="button"
              class="btn btn-primary"
              onClick={() => setAdding(true)}
              data-testid="add-host"
            >
              Add host
            </button>
          </div>
        ) : null}
      </div>
      <p class="muted">
        Docker engines stacks run on: this server's own (<code>local</code>), others over SSH with a
        pinned host key, or over TCP with TLS client certificates. Each is checked on a schedule.
      </p>
      {adding ? (
        <HostForm
          onCancel={() => setAdding(false)}
          onCreated={(h) => {
            setAdding(false);
            list.reload();
            toast(`Added ${h.name}; checking it now.`, 'success');
          }}
        />
      ) : null}
      {list.error ? <ErrorNote error={list.error} prefix="Could not load hosts" /> : null}
      <ErrorNote error={remove.error} prefix="Could not delete" testId="delete-host-error" />
      {list.loading && !list.data ? <Loading label="Loading hosts…" /> : null}
      {list.data && hosts.length === 0 ? <Empty title="No hosts" /> : null}
      {hosts.length ? (
        <div class="table-wrap">
          <table class="table" data-testid="hosts-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Address</th>
                <th scope="col">Health</th>
                <th scope="col">Engine</th>
                <th scope="col">Swarm</th>
                <th scope="col">Stacks</th>
                <th scope="col">Checked</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {hosts.map((h) => (
                <tr key={h.id} data-testid="host-row" data-host={h.name}>
                  <td data-label="Name">{h.name}</td>
                  <td data-label="Address" class="mono break">
                    {h.docker_host ?? 'this server’s engine'}
                  </td>
                  <td data-label="Health">
                    <HealthBadge host={h} />
                    {h.error ? <div class="muted small">{h.error}</div> : null}
                  </td>
                  <td data-label="Engine" class="mono">
                    {h.engine_version ?? '—'}
                    {h.compose_version ? ` · compose ${h.compose_version}` : ''}
                  </td>
                  <td data-label="Swarm">
                    {h.swarm ?? '—'}
                    {h.nodes?.length ? (
                      <ul class="plain small" data-testid="host-nodes">
                        {h.nodes.map((n) => (
                          <li key={n.id}>
                            {n.hostname} ({n.role}, {n.state})
                          </li>
                        ))}
                      </ul>
                    ) : null}
                  </td>
                  <td data-label="Stacks">{h.stacks}</td>
                  <td data-label="Checked">
                    <Time iso={h.last_checked_at} />
                  </td>
                  <td class="cell-actions">
                    {admin && h.id !== 'local' ? (
                      <button
                        type="button"
                        class="btn btn-danger-ghost btn-sm"
                        disabled={remove.busy || h.stacks > 0}
                        title={h.stacks > 0 ? 'move or delete its stacks first' : undefined}
                        onClick={() => remove.run(h)}
                        data-testid="delete-host"
                      >
                        Delete
                      </button>
                    ) : null}
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

/** A multi-line monospace field (keys, certificates, known_hosts lines). */
function TextBlock(p: {
  label: string;
  id: string;
  hint?: string;
  rows: number;
  value: string;
  onChange(v: string): void;
}) {
  return (
    <Field label={p.label} id={p.id} hint={p.hint}>
      <textarea
        id={p.id}
        class="mono"
        rows={p.rows}
        value={p.value}
        onInput={(e) => p.onChange(e.currentTarget.value)}
      />
    </Field>
  );
}

function HostForm({ onCancel, onCreated }: { onCancel(): void; onCreated(h: Host): void }) {
  const [name, setName] = useState('');
  const [address, setAddress] = useState('ssh://');
  const [key, setKey] = useState('');
  const [known, setKnown] = useState('');
  const [ca, setCa] = useState('');
  const [cert, setCert] = useState('');
  const [tlsKey, setTlsKey] = useState('');
  const tcp = address.startsWith('tcp://');
  const save = useAction(async () => {
    const { host } = await api.createHost({
      name: name.trim(),
      docker_host: address.trim(),
      ...(address.startsWith('ssh://') ? { ssh_private_key: key, ssh_known_hosts: known } : {}),
      ...(tcp ? { tls_ca: ca, tls_cert: cert, tls_key: tlsKey } : {}),
    });
    onCreated(host);
  });
  return (
    <form
      class="card form"
      data-testid="host-form"
      onSubmit={(e) => {
        e.preventDefault();
        void save.run();
      }}
    >
      <Field label="Name" id="host-name">
        <input
          id="host-name"
          value={name}
          onInput={(e) => setName(e.currentTarget.value)}
          required
        />
      </Field>
      <Field
        label="Address"
        id="host-address"
        hint="ssh://user@host[:port], tcp://host:2376 (TLS) or unix:///path/to/docker.sock"
      >
        <input
          id="host-address"
          class="mono"
          value={address}
          onInput={(e) => setAddress(e.currentTarget.value)}
          required
        />
      </Field>
      {address.startsWith('ssh://') ? (
        <>
          <TextBlock
            label="SSH private key"
            id="host-key"
            hint="Unencrypted; stored encrypted, never shown again."
            rows={4}
            value={key}
            onChange={setKey}
          />
          <TextBlock
            label="Pinned host key (known_hosts)"
            id="host-known"
            hint="The host's line from ssh-keyscan, checked out of band. Other keys are refused."
            rows={2}
            value={known}
            onChange={setKnown}
          />
        </>
      ) : null}
      {tcp ? (
        <>
          <TextBlock
            label="CA certificate (PEM)"
            id="host-ca"
            rows={3}
            value={ca}
            onChange={setCa}
          />
          <TextBlock
            label="Client certificate (PEM)"
            id="host-cert"
            rows={3}
            value={cert}
            onChange={setCert}
          />
          <TextBlock
            label="Client key (PEM)"
            id="host-tls-key"
            rows={3}
            value={tlsKey}
            onChange={setTlsKey}
          />
        </>
      ) : null}
      <ErrorNote error={save.error} prefix="Could not add the host" testId="host-form-error" />
      <div class="form-actions">
        <button type="submit" class="btn btn-primary" disabled={save.busy} data-testid="save-host">
          Add host
        </button>
        <button type="button" class="btn" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
