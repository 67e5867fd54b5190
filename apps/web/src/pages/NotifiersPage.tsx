import type { NotificationEvent } from '@simpledeploy/core';
import { useState } from 'preact/hooks';
import {
  api,
  fieldErrors,
  type NotificationDelivery,
  type Notifier,
  type NotifierCreate,
} from '../api';
import { Empty, ErrorNote, Field, Loading, Time } from '../components/ui';
import { useApp } from '../context';
import { useAction, useResource } from '../hooks';
import { canAdmin } from '../lib/access';

const KINDS: { kind: Notifier['kind']; label: string; url: string }[] = [
  {
    kind: 'webhook',
    label: 'Webhook (signed JSON)',
    url: 'https://example.com/hooks/simpledeploy',
  },
  { kind: 'slack', label: 'Slack', url: 'https://hooks.slack.com/services/T…/B…/…' },
  { kind: 'discord', label: 'Discord', url: 'https://discord.com/api/webhooks/…/…' },
  { kind: 'ntfy', label: 'ntfy', url: 'https://ntfy.sh/my-deploys' },
  { kind: 'email', label: 'E-mail (SMTP)', url: 'smtps://user:password@smtp.example.com:465' },
];

/** api.md's events, in the order people think of them (the same list as core's NOTIFICATION_EVENTS). */
const EVENTS = [
  'deployment.succeeded',
  'deployment.failed',
  'deployment.rolled_back',
  'deployment.canceled',
  'drift.detected',
  'update.available',
  'poll.failing',
  'host.unreachable',
] as const satisfies readonly NotificationEvent[];
/** A new event in core that the form does not offer breaks this build. */
export const OFFERS_EVERY_EVENT: [Exclude<NotificationEvent, (typeof EVENTS)[number]>] extends [
  never,
]
  ? true
  : false = true;

const BADGE: Record<NotificationDelivery['status'], string> = {
  delivered: 'succeeded',
  pending: 'queued',
  failed: 'failed',
};

/** Notifiers (api.md "Notifications"): the list, a form to add one, a test button, recent deliveries. */
export function NotifiersPage() {
  const { me, toast } = useApp();
  const admin = canAdmin(me);
  const list = useResource('notifiers', (signal) => api.notifiers(signal).then((r) => r.notifiers));
  const [open, setOpen] = useState<string | null>(null);
  const [adding, setAdding] = useState(false);
  const [tick, setTick] = useState(0);

  const test = useAction(async (n: Notifier) => {
    const { delivery } = await api.testNotifier(n.id);
    setOpen(n.id);
    setTick((t) => t + 1);
    if (delivery.status === 'delivered') toast(`Test sent to ${n.name}.`, 'success');
    else
      toast(
        `Test to ${n.name} did not go through: ${delivery.last_error ?? delivery.status}`,
        'error',
      );
  });
  const remove = useAction(async (n: Notifier) => {
    if (!window.confirm(`Delete the notifier "${n.name}" and its delivery history?`)) return;
    await api.deleteNotifier(n.id);
    if (open === n.id) setOpen(null);
    list.reload();
    toast(`Deleted ${n.name}.`, 'success');
  });

  const notifiers = list.data ?? [];
  return (
    <section class="page" aria-labelledby="notifiers-title">
      <div class="page-head">
        <h1 id="notifiers-title" tabIndex={-1}>
          Notifications
        </h1>
        {admin && !adding ? (
          <div class="head-actions">
            <button
              type="button"
              class="btn btn-primary"
              onClick={() => setAdding(true)}
              data-testid="add-notifier"
            >
              Add notifier
            </button>
          </div>
        ) : null}
      </div>
      <p class="muted">
        Deployments, drift, image updates, failing polls and unreachable hosts, sent to a webhook,
        Slack, Discord, ntfy or e-mail. Messages wait in an outbox and are retried until they
        arrive.
      </p>
      {adding ? (
        <NotifierForm
          onCancel={() => setAdding(false)}
          onCreated={(n) => {
            setAdding(false);
            list.reload();
            toast(`Added ${n.name}.`, 'success');
          }}
        />
      ) : null}
      {list.error ? <ErrorNote error={list.error} prefix="Could not load notifiers" /> : null}
      <ErrorNote error={test.error} prefix="Could not send the test" testId="test-error" />
      <ErrorNote error={remove.error} prefix="Could not delete" testId="delete-error" />
      {list.loading && !list.data ? <Loading label="Loading notifiers…" /> : null}
      {list.data && notifiers.length === 0 ? (
        <Empty title="No notifiers yet">
          {admin ? 'Add one to hear about failed deployments before your users do.' : null}
        </Empty>
      ) : null}
      {notifiers.length ? (
        <div class="table-wrap">
          <table class="table" data-testid="notifiers-table">
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Kind</th>
                <th scope="col">Sends to</th>
                <th scope="col">Events</th>
                <th scope="col">Stacks</th>
                <th scope="col">
                  <span class="sr-only">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {notifiers.map((n) => (
                <tr key={n.id} data-testid="notifier-row" data-notifier={n.name}>
                  <td data-label="Name">
                    {n.name}
                    {n.enabled ? null : <span class="muted"> (off)</span>}
                  </td>
                  <td data-label="Kind">{n.kind}</td>
                  <td data-label="Sends to" class="mono break">
                    {n.kind === 'email' ? `${(n.email_to ?? []).join(', ')} via ${n.url}` : n.url}
                    {n.has_secret ? <span class="muted"> · secret set</span> : null}
                  </td>
                  <td data-label="Events" class="mono">
                    {n.events.join(', ')}
                  </td>
                  <td data-label="Stacks">{n.stacks.length ? n.stacks.join(', ') : 'all'}</td>
                  <td class="cell-actions">
                    <button
                      type="button"
                      class="btn btn-ghost btn-sm"
                      aria-expanded={open === n.id}
                      onClick={() => setOpen(open === n.id ? null : n.id)}
                      data-testid="show-deliveries"
                    >
                      Deliveries
                    </button>
                    {admin ? (
                      <>
                        <button
                          type="button"
                          class="btn btn-sm"
                          disabled={test.busy}
                          onClick={() => test.run(n)}
                          data-testid="test-notifier"
                        >
                          Send test
                        </button>
                        <button
                          type="button"
                          class="btn btn-danger-ghost btn-sm"
                          disabled={remove.busy}
                          onClick={() => remove.run(n)}
                          data-testid="delete-notifier"
                        >
                          Delete
                        </button>
                      </>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {open ? (
        <Deliveries
          key={`${open}:${tick}`}
          notifier={notifiers.find((n) => n.id === open) ?? null}
          id={open}
        />
      ) : null}
    </section>
  );
}

function Deliveries({ id, notifier }: { id: string; notifier: Notifier | null }) {
  const list = useResource(`deliveries:${id}`, (signal) =>
    api.notifierDeliveries(id, signal).then((r) => r.deliveries),
  );
  const rows = list.data ?? [];
  return (
    <section class="panel" aria-labelledby="deliveries-title" data-testid="deliveries">
      <div class="panel-head">
        <h2 id="deliveries-title">Recent deliveries{notifier ? ` of ${notifier.name}` : ''}</h2>
        <button type="button" class="btn btn-ghost btn-sm" onClick={list.reload}>
          Refresh
        </button>
      </div>
      {list.error ? <ErrorNote error={list.error} prefix="Could not load deliveries" /> : null}
      {list.loading && !list.data ? <Loading label="Loading deliveries…" /> : null}
      {list.data && rows.length === 0 ? <Empty title="Nothing sent yet" /> : null}
      {rows.length ? (
        <div class="table-wrap">
          <table class="table" data-testid="deliveries-table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">Event</th>
                <th scope="col">Message</th>
                <th scope="col">Status</th>
                <th scope="col">Attempts</th>
                <th scope="col">Last error</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((d) => (
                <tr key={d.id} data-testid="delivery-row" data-event={d.event}>
                  <td data-label="When">
                    <Time iso={d.created_at} />
                  </td>
                  <td data-label="Event" class="mono">
                    {d.event}
                  </td>
                  <td data-label="Message">{d.title}</td>
                  <td data-label="Status">
                    <span
                      class={`badge badge-${BADGE[d.status]}`}
                      data-testid="delivery-status"
                      data-status={d.status}
                    >
                      <span class="badge-dot" aria-hidden="true" />
                      {d.status}
                      {d.response_status ? ` (${d.response_status})` : ''}
                    </span>
                    {d.status === 'pending' && d.next_attempt_at ? (
                      <span class="muted">
                        {' '}
                        next <Time iso={d.next_attempt_at} />
                      </span>
                    ) : null}
                  </td>
                  <td data-label="Attempts">{d.attempts}</td>
                  <td data-label="Last error" class="cell-error">
                    {d.last_error ? <span class="error-text">{d.last_error}</span> : '—'}
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

interface FormState {
  name: string;
  kind: Notifier['kind'];
  url: string;
  email_to: string;
  email_from: string;
  secret: string;
  events: string[];
  stacks: string;
}

function NotifierForm({
  onCreated,
  onCancel,
}: {
  onCreated: (n: Notifier) => void;
  onCancel: () => void;
}) {
  const [f, setF] = useState<FormState>({
    name: '',
    kind: 'webhook',
    url: '',
    email_to: '',
    email_from: '',
    secret: '',
    events: ['deployment.failed', 'deployment.rolled_back'],
    stacks: '',
  });
  const save = useAction(async () => {
    const body: NotifierCreate = {
      name: f.name.trim(),
      kind: f.kind,
      url: f.url.trim(),
      // In the list's order, whatever order they were ticked in.
      events: EVENTS.filter((ev) => f.events.includes(ev)),
      stacks: f.stacks
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
    };
    if (f.kind === 'email') {
      body.email_to = f.email_to;
      if (f.email_from.trim()) body.email_from = f.email_from.trim();
    }
    if ((f.kind === 'webhook' || f.kind === 'ntfy') && f.secret) body.secret = f.secret;
    const { notifier } = await api.createNotifier(body);
    onCreated(notifier);
  });
  const errs = fieldErrors(save.error);
  const set = <K extends keyof FormState>(k: K, v: FormState[K]) => setF((s) => ({ ...s, [k]: v }));
  const input = (k: 'name' | 'url' | 'email_to' | 'email_from' | 'secret' | 'stacks') => ({
    id: `n-${k}`,
    value: f[k],
    onInput: (e: Event) => set(k, (e.currentTarget as HTMLInputElement).value),
    'aria-invalid': errs[k] ? ('true' as const) : undefined,
    'data-testid': `notifier-${k}`,
  });
  const kind = KINDS.find((k) => k.kind === f.kind);
  return (
    <form
      class="card"
      noValidate
      data-testid="notifier-form"
      onSubmit={(e) => {
        e.preventDefault();
        save.run();
      }}
    >
      <div class="grid-2">
        <Field label="Name" id="n-name" error={errs.name}>
          <input {...input('name')} autocomplete="off" />
        </Field>
        <Field label="Kind" id="n-kind" error={errs.kind}>
          <select
            id="n-kind"
            value={f.kind}
            onChange={(e) => set('kind', e.currentTarget.value as Notifier['kind'])}
            data-testid="notifier-kind"
          >
            {KINDS.map((k) => (
              <option key={k.kind} value={k.kind}>
                {k.label}
              </option>
            ))}
          </select>
        </Field>
      </div>
      <Field
        label={f.kind === 'email' ? 'SMTP server' : f.kind === 'ntfy' ? 'Topic URL' : 'URL'}
        id="n-url"
        error={errs.url}
        hint={
          f.kind === 'email'
            ? 'smtp:// uses STARTTLS, smtps:// TLS; the password is stored encrypted.'
            : 'Stored encrypted and shown masked afterwards.'
        }
      >
        <input {...input('url')} placeholder={kind?.url} autocomplete="off" spellcheck={false} />
      </Field>
      {f.kind === 'email' ? (
        <div class="grid-2">
          <Field label="Send to" id="n-email_to" error={errs.email_to} hint="Comma separated.">
            <input {...input('email_to')} placeholder="ops@example.com" />
          </Field>
          <Field label="From (optional)" id="n-email_from" error={errs.email_from}>
            <input {...input('email_from')} placeholder="simpledeploy <deploy@example.com>" />
          </Field>
        </div>
      ) : null}
      {f.kind === 'webhook' || f.kind === 'ntfy' ? (
        <Field
          label={f.kind === 'webhook' ? 'Signing secret' : 'Access token (optional)'}
          id="n-secret"
          error={errs.secret}
          hint={
            f.kind === 'webhook'
              ? 'At least 16 characters: the receiver checks X-Simpledeploy-Signature: sha256=<HMAC of the body> with it.'
              : 'Sent as Authorization: Bearer.'
          }
        >
          <input {...input('secret')} type="password" autocomplete="new-password" />
        </Field>
      ) : null}
      <fieldset class="field checks" data-testid="notifier-events">
        <legend>Events</legend>
        {EVENTS.map((ev) => (
          <label class="check" key={ev}>
            <input
              type="checkbox"
              checked={f.events.includes(ev)}
              onChange={(e) =>
                set(
                  'events',
                  e.currentTarget.checked ? [...f.events, ev] : f.events.filter((x) => x !== ev),
                )
              }
              data-testid={`event-${ev}`}
            />
            <span class="mono">{ev}</span>
          </label>
        ))}
        {errs.events ? (
          <p class="field-error" role="alert">
            {errs.events}
          </p>
        ) : null}
      </fieldset>
      <Field
        label="Stacks (optional)"
        id="n-stacks"
        error={errs.stacks}
        hint="Comma separated names; empty = every stack."
      >
        <input {...input('stacks')} placeholder="all" />
      </Field>
      <div class="form-foot">
        <ErrorNote error={save.error} testId="notifier-form-error" />
        <button type="button" class="btn btn-ghost" onClick={onCancel}>
          Cancel
        </button>
        <button
          type="submit"
          class="btn btn-primary"
          disabled={save.busy}
          data-testid="save-notifier"
        >
          {save.busy ? 'Saving…' : 'Add notifier'}
        </button>
      </div>
    </form>
  );
}
