import { useState } from 'preact/hooks';
import {
  api,
  type ControlCommand,
  type Deployment,
  isGitStack,
  isTerminal,
  type Stack,
  type StackInput,
} from '../api';
import { ContainerLogsTab } from '../components/ContainerLogsTab';
import { DeploymentsTable } from '../components/DeploymentsTable';
import { OverviewTab } from '../components/OverviewTab';
import { StackForm } from '../components/StackForm';
import { ErrorNote, Loading, StatusBadge, Time, useConfirm } from '../components/ui';
import { VersionsTab } from '../components/VersionsTab';
import { useApp, useLive } from '../context';
import { useAction, useResource } from '../hooks';
import { canAdmin, canDeploy } from '../lib/access';
import { shortId, shortSha } from '../lib/format';
import { applyDeploymentToStack, upsertDeployment } from '../lib/live-state';
import { links, STACK_TABS, type StackTab } from '../lib/route';

const TAB_LABELS: Record<StackTab, string> = {
  overview: 'Overview',
  deployments: 'Deployments',
  versions: 'Versions',
  logs: 'Logs',
  settings: 'Settings',
};

export function StackPage({ stack: ref, tab }: { stack: string; tab: StackTab }) {
  const { toast } = useApp();
  const stack = useResource(`stack:${ref}`, (signal) =>
    api.getStack(ref, signal).then((r) => r.stack),
  );
  const deployments = useResource(`deployments:${ref}`, (signal) =>
    api.deployments(ref, signal).then((r) => r.deployments),
  );
  const [liveTick, setLiveTick] = useState(0);
  const s = stack.data;

  useLive((e) => {
    if (e.type === 'resync') {
      stack.reload();
      deployments.reload();
      setLiveTick((n) => n + 1);
    } else if (e.type === 'stack' && s && e.stack.id === s.id) {
      stack.setData((prev) => ({ ...prev, ...e.stack }));
    } else if (e.type === 'stack_deleted' && s && (e.stack_id === s.id || e.stack_id === s.name)) {
      toast(`Stack ${s.name} was deleted.`);
      location.hash = links.stacks();
    } else if (e.type === 'deployment' && s && e.deployment.stack_id === s.id) {
      const d = e.deployment;
      stack.setData((prev) => (prev ? applyDeploymentToStack(prev, d) : prev));
      deployments.setData((prev) => upsertDeployment(prev ?? [], d));
      // A finished deployment changes versions, services and drift.
      if (isTerminal(d.status)) setLiveTick((n) => n + 1);
    }
  });

  if (!s) {
    return (
      <section class="page">
        <Crumbs name={ref} />
        <h1 tabIndex={-1}>{ref}</h1>
        {stack.error ? (
          <ErrorNote error={stack.error} prefix="Could not load the stack" />
        ) : (
          <Loading />
        )}
      </section>
    );
  }

  return (
    <section class="page" aria-labelledby="stack-title">
      <Crumbs name={s.name} />
      <div class="page-head stack-head">
        <div>
          <h1 id="stack-title" tabIndex={-1}>
            {s.name} <StatusBadge status={s.status} testId="stack-status" />
          </h1>
          <p class="muted stack-meta">
            {isGitStack(s) ? (
              <>
                <span class="mono">{s.repo_url}</span>
                {s.repo_branch ? <> · {s.repo_branch}</> : null}
              </>
            ) : (
              'inline compose'
            )}
            {' · on '}
            <a href={links.hosts()} data-testid="stack-host">
              {s.host}
            </a>
            {s.engine === 'swarm' ? ' (swarm)' : null}
            {' · version '}
            <span
              class="mono"
              title={s.current_version_id ?? undefined}
              data-testid="current-version"
            >
              {shortId(s.current_version_id)}
            </span>
            {s.deployed_commit ? (
              <>
                {' · commit '}
                <span class="mono">{shortSha(s.deployed_commit)}</span>
              </>
            ) : null}
            {s.last_deployment ? (
              <>
                {' · last deploy '}
                <a href={links.deployment(s.last_deployment.id)}>
                  {s.last_deployment.status.replace('_', ' ')}
                </a>{' '}
                <Time iso={s.last_deployment.finished_at} />
              </>
            ) : null}
          </p>
        </div>
      </div>
      <ActionBar stack={s} deployments={deployments.data ?? []} onChanged={() => stack.reload()} />

      <nav class="tabs" aria-label="Stack sections">
        {STACK_TABS.map((t) => (
          <a
            key={t}
            href={links.stack(s.name, t)}
            class="tab"
            aria-current={t === tab ? 'page' : undefined}
            data-testid={`tab-${t}`}
          >
            {TAB_LABELS[t]}
          </a>
        ))}
      </nav>

      <div class="tab-panel">
        {tab === 'overview' ? <OverviewTab stack={s} refreshKey={liveTick} /> : null}
        {tab === 'deployments' ? (
          <DeploymentsPanel
            error={deployments.error}
            loading={deployments.loading}
            deployments={deployments.data}
          />
        ) : null}
        {tab === 'versions' ? <VersionsTab stack={s} refreshKey={liveTick} /> : null}
        {tab === 'logs' ? <ContainerLogsTab stack={s} /> : null}
        {tab === 'settings' ? (
          <SettingsTab stack={s} onSaved={(next) => stack.setData(() => next)} />
        ) : null}
      </div>
    </section>
  );
}

function Crumbs({ name }: { name: string }) {
  return (
    <nav class="crumbs" aria-label="Breadcrumb">
      <a href={links.stacks()}>Stacks</a> <span aria-hidden="true">/</span> <span>{name}</span>
    </nav>
  );
}

function DeploymentsPanel({
  deployments,
  error,
  loading,
}: {
  deployments: Deployment[] | undefined;
  error: unknown;
  loading: boolean;
}) {
  const { me } = useApp();
  const [confirmEl, confirm] = useConfirm();
  const [cancelError, setCancelError] = useState<unknown>(null);
  const cancel = async (d: Deployment) => {
    const r = await confirm({
      title: 'Cancel this deployment?',
      body: (
        <p>The running docker compose process is stopped and the deployment ends as canceled.</p>
      ),
      confirmLabel: 'Cancel deployment',
      danger: true,
    });
    if (!r.ok) return;
    setCancelError(null);
    try {
      await api.cancelDeployment(d.id);
    } catch (e) {
      setCancelError(e);
    }
  };
  return (
    <div>
      {confirmEl}
      <ErrorNote error={cancelError} prefix="Cancel failed" />
      {error ? <ErrorNote error={error} prefix="Could not load deployments" /> : null}
      {loading && !deployments ? <Loading label="Loading deployments…" /> : null}
      {deployments ? (
        <DeploymentsTable
          deployments={deployments}
          {...(canDeploy(me) ? { onCancel: cancel } : {})}
        />
      ) : null}
    </div>
  );
}

type ActionName = 'deploy' | 'cancel' | 'rollback' | 'delete' | ControlCommand;

const CONTROL_INFO: Record<ControlCommand, { label: string; confirm?: string; body?: string }> = {
  start: { label: 'Start' },
  stop: {
    label: 'Stop',
    confirm: 'Stop every service?',
    body: 'The containers stop but are kept; Start brings them back.',
  },
  restart: {
    label: 'Restart',
    confirm: 'Restart every service?',
    body: 'Each container restarts; the services are briefly unavailable.',
  },
  pull: { label: 'Pull' },
  down: {
    label: 'Down',
    confirm: 'Take the stack down?',
    body: 'Containers and networks are removed (volumes are kept). Deploy brings it back.',
  },
};

function ActionBar({
  stack: s,
  deployments,
  onChanged,
}: {
  stack: Stack;
  deployments: Deployment[];
  onChanged: () => void;
}) {
  const { toast, me } = useApp();
  const [confirmEl, confirm] = useConfirm();
  const [failed, setFailed] = useState<{ action: ActionName; error: unknown } | null>(null);
  const [busy, setBusy] = useState<ActionName | null>(null);
  const [ref, setRef] = useState('');
  const [force, setForce] = useState(false);
  const active = s.status !== 'idle' || deployments.some((d) => !isTerminal(d.status));

  const run = async (action: ActionName, fn: () => Promise<void>) => {
    setBusy(action);
    setFailed(null);
    try {
      await fn();
    } catch (error) {
      setFailed({ action, error });
    } finally {
      setBusy(null);
    }
  };

  const deploy = (opts: { ref?: string; force?: boolean } = {}) =>
    run('deploy', async () => {
      const r = await api.deploy(s.id, opts);
      toast(
        r.coalesced ? 'Joined the deployment already queued.' : 'Deployment queued.',
        'success',
      );
      location.hash = links.deployment(r.deployment.id);
    });

  const control = async (cmd: ControlCommand) => {
    const info = CONTROL_INFO[cmd];
    if (info.confirm) {
      const r = await confirm({
        title: info.confirm,
        body: <p>{info.body}</p>,
        confirmLabel: info.label,
        danger: true,
      });
      if (!r.ok) return;
    }
    await run(cmd, async () => {
      await api.control(s.id, cmd);
      toast(`${info.label} accepted for ${s.name}.`, 'success');
      onChanged();
    });
  };

  const cancel = async () => {
    const r = await confirm({
      title: 'Cancel the running deployment?',
      body: <p>The docker compose process is stopped and the deployment ends as canceled.</p>,
      confirmLabel: 'Cancel deployment',
      danger: true,
    });
    if (!r.ok) return;
    await run('cancel', async () => {
      await api.cancelStack(s.id);
      toast('Cancel requested.', 'success');
    });
  };

  const rollback = async () => {
    const r = await confirm({
      title: 'Roll back to the previous version?',
      body: (
        <p>
          The version deployed before the current one is applied again. To pick another one, use the{' '}
          <a href={links.stack(s.name, 'versions')}>Versions</a> tab.
        </p>
      ),
      confirmLabel: 'Roll back',
      danger: true,
    });
    if (!r.ok) return;
    await run('rollback', async () => {
      const { deployment } = await api.rollback(s.id);
      location.hash = links.deployment(deployment.id);
    });
  };

  const del = async () => {
    const r = await confirm({
      title: `Delete stack ${s.name}?`,
      body: (
        <p>
          The compose project is taken down (<code>down --remove-orphans</code>) and the stack, its
          history and versions are deleted. This cannot be undone.
        </p>
      ),
      confirmLabel: 'Delete stack',
      danger: true,
      checkbox: 'Also remove its volumes (data is lost)',
    });
    if (!r.ok) return;
    await run('delete', async () => {
      await api.deleteStack(s.id, r.checked);
      toast(`Stack ${s.name} is being deleted.`, 'success');
      location.hash = links.stacks();
    });
  };

  const label = (a: ActionName, text: string) => (busy === a ? `${text}…` : text);

  // Hidden when the key cannot do them: viewers read, only admins change the stack.
  const deployer = canDeploy(me);
  const admin = canAdmin(me);
  if (!deployer && !admin) return null;

  return (
    <section class="actions" aria-label="Stack actions" data-testid="stack-actions">
      {confirmEl}
      <div class="action-row">
        {deployer ? (
          <div class="btn-group">
            <button
              type="button"
              class="btn btn-primary"
              disabled={!!busy}
              onClick={() => deploy()}
              data-testid="action-deploy"
            >
              {label('deploy', 'Deploy')}
            </button>
            <details class="menu">
              <summary class="btn" aria-label="Deploy options" data-testid="deploy-options">
                ▾
              </summary>
              <form
                class="menu-body"
                onSubmit={(e) => {
                  e.preventDefault();
                  (e.currentTarget.closest('details') as HTMLDetailsElement).open = false;
                  void deploy({
                    ...(ref.trim() ? { ref: ref.trim() } : {}),
                    ...(force ? { force } : {}),
                  });
                }}
              >
                <label for="deploy-ref">Branch, tag or commit</label>
                <input
                  id="deploy-ref"
                  value={ref}
                  onInput={(e) => setRef(e.currentTarget.value)}
                  placeholder={s.repo_branch ?? 'default'}
                />
                <label class="check">
                  <input
                    type="checkbox"
                    checked={force}
                    onChange={(e) => setForce(e.currentTarget.checked)}
                  />
                  Force (redeploy even if nothing changed)
                </label>
                <button type="submit" class="btn btn-primary btn-sm">
                  Deploy
                </button>
              </form>
            </details>
          </div>
        ) : null}
        {active && deployer ? (
          <button
            type="button"
            class="btn btn-danger-ghost"
            disabled={!!busy}
            onClick={cancel}
            data-testid="action-cancel"
          >
            {label('cancel', 'Cancel deploy')}
          </button>
        ) : null}
        {admin ? (
          <div class="btn-group">
            {(Object.keys(CONTROL_INFO) as ControlCommand[]).map((cmd) => (
              <button
                key={cmd}
                type="button"
                class="btn"
                disabled={!!busy}
                onClick={() => void control(cmd)}
                data-testid={`action-${cmd}`}
              >
                {label(cmd, CONTROL_INFO[cmd].label)}
              </button>
            ))}
          </div>
        ) : null}
        {deployer ? (
          <button
            type="button"
            class="btn"
            disabled={!!busy}
            onClick={rollback}
            data-testid="action-rollback"
          >
            {label('rollback', 'Roll back')}
          </button>
        ) : null}
        {admin ? (
          <button
            type="button"
            class="btn btn-danger-ghost push-end"
            disabled={!!busy}
            onClick={del}
            data-testid="action-delete"
          >
            {label('delete', 'Delete')}
          </button>
        ) : null}
      </div>
      {failed ? (
        <ErrorNote
          error={failed.error}
          prefix={`${actionTitle(failed.action)} failed`}
          testId="action-error"
        />
      ) : null}
    </section>
  );
}

function actionTitle(a: ActionName): string {
  if (a in CONTROL_INFO) return CONTROL_INFO[a as ControlCommand].label;
  return a === 'rollback' ? 'Roll back' : a.charAt(0).toUpperCase() + a.slice(1);
}

function SettingsTab({ stack, onSaved }: { stack: Stack; onSaved: (s: Stack) => void }) {
  const { toast, me } = useApp();
  const [version, setVersion] = useState(0);
  const save = useAction(async (input: StackInput) => {
    const r = await api.updateStack(stack.id, input);
    onSaved(r.stack);
    setVersion((v) => v + 1);
    if (r.deployment) {
      toast('Saved; a deploy was queued because the stack deploys automatically.', 'success');
    } else toast('Settings saved.', 'success');
    if (r.stack.name !== stack.name) location.hash = links.stack(r.stack.name, 'settings');
  });
  return (
    <div class="settings">
      <p class="muted">
        Only the fields you change are sent. Secrets are write-only: the server says whether one is
        set, never what it is. Webhook URL for git hosts:{' '}
        <code class="mono break">{`${location.origin}/api/v1/stacks/${stack.name}/webhook`}</code>
      </p>
      {canAdmin(me) ? null : (
        <p class="muted" data-testid="admin-only">
          Only an admin key can change a stack; this browser is signed in with a {me?.role} key.
        </p>
      )}
      <StackForm
        key={`${stack.id}:${version}`}
        original={stack}
        busy={save.busy}
        error={save.error}
        submitLabel="Save changes"
        onSubmit={(input) => void save.run(input)}
      />
    </div>
  );
}
