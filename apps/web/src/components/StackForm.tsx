import { useState } from 'preact/hooks';
import { fieldErrors, type Stack, type StackInput } from '../api';
import { type StackForm as Form, formFromStack, stackInput } from '../lib/forms';
import { ErrorNote, Field } from './ui';
import { useYamlProblems, YamlEditor } from './YamlEditor';

const EXAMPLE = `services:
  web:
    image: nginx:1.27-alpine
    ports:
      - "8080:80"
    healthcheck:
      test: ["CMD", "wget", "-qO-", "http://localhost/"]
      interval: 5s
      retries: 5
`;

type Source = 'compose' | 'git';

/** Create or edit a stack. Secrets are write-only: shown as set/not set, replaceable. */
export function StackForm({
  original,
  busy,
  error,
  submitLabel,
  onSubmit,
  showDeployNow,
}: {
  original: Stack | null;
  busy: boolean;
  error: unknown;
  submitLabel: string;
  onSubmit: (input: StackInput, opts: { deployNow: boolean }) => void;
  showDeployNow?: boolean;
}) {
  const [form, setForm] = useState<Form>(() => {
    const f = formFromStack(original);
    return original ? f : { ...f, compose: EXAMPLE };
  });
  const [source, setSource] = useState<Source>(original?.repo_url ? 'git' : 'compose');
  const [deployNow, setDeployNow] = useState(true);
  const [localErrors, setLocalErrors] = useState<Record<string, string>>({});
  const [nothingChanged, setNothingChanged] = useState(false);
  const problems = useYamlProblems(source === 'compose' ? form.compose : '');
  const serverErrors = fieldErrors(error);
  const errs = { ...serverErrors, ...localErrors };

  const set = <K extends keyof Form>(k: K, v: Form[K]) => {
    setForm((f) => ({ ...f, [k]: v }));
    setNothingChanged(false);
    if (localErrors[k as string]) setLocalErrors(({ [k as string]: _, ...rest }) => rest);
  };
  const text = (k: keyof Form) => ({
    id: `f-${k}`,
    name: k,
    value: form[k] as string,
    onInput: (e: Event) => set(k, (e.currentTarget as HTMLInputElement).value as never),
    'aria-invalid': errs[k] ? ('true' as const) : undefined,
    'aria-describedby': errs[k] ? `f-${k}-error` : undefined,
  });

  const submit = (e: Event) => {
    e.preventDefault();
    const { input, errors } = stackInput(form, source, original);
    if (source === 'compose' && problems.some((p) => p.severity === 'error')) {
      errors.compose = 'Fix the YAML errors first.';
    }
    setLocalErrors(errors);
    if (Object.keys(errors).length) {
      document.getElementById(`f-${Object.keys(errors)[0]}`)?.focus();
      return;
    }
    if (original && Object.keys(input).length === 0) {
      setNothingChanged(true);
      return;
    }
    onSubmit(input, { deployNow: showDeployNow ? deployNow : false });
  };

  return (
    <form class="stack-form" onSubmit={submit} noValidate data-testid="stack-form">
      <Field label="Name" id="f-name" error={errs.name} hint="Lowercase letters, digits, - and _.">
        <input {...text('name')} autocomplete="off" spellcheck={false} data-testid="stack-name" />
      </Field>

      {original ? null : (
        <fieldset class="segmented" data-testid="source-choice">
          <legend>Source</legend>
          <label class={source === 'compose' ? 'seg seg-on' : 'seg'}>
            <input
              type="radio"
              name="source"
              value="compose"
              checked={source === 'compose'}
              onChange={() => setSource('compose')}
              data-testid="source-compose"
            />
            Inline compose YAML
          </label>
          <label class={source === 'git' ? 'seg seg-on' : 'seg'}>
            <input
              type="radio"
              name="source"
              value="git"
              checked={source === 'git'}
              onChange={() => setSource('git')}
              data-testid="source-git"
            />
            Git repository
          </label>
        </fieldset>
      )}

      {source === 'compose' ? (
        <div class={errs.compose ? 'field field-invalid' : 'field'}>
          <YamlEditor
            id="f-compose"
            label="Compose file"
            value={form.compose}
            onInput={(v) => set('compose', v)}
            problems={problems}
          />
          {errs.compose ? (
            <p class="field-error" role="alert" id="f-compose-error" data-testid="f-compose-error">
              {errs.compose}
            </p>
          ) : null}
        </div>
      ) : (
        <div class="grid-2">
          <Field
            label="Repository URL"
            id="f-repo_url"
            error={errs.repo_url}
            hint="https:// or http://"
          >
            <input
              {...text('repo_url')}
              type="url"
              spellcheck={false}
              placeholder="https://git.example.com/team/app.git"
              data-testid="repo-url"
            />
          </Field>
          <Field
            label="Branch or tag"
            id="f-repo_branch"
            error={errs.repo_branch}
            hint="Empty: the remote's default branch."
          >
            <input {...text('repo_branch')} spellcheck={false} placeholder="main" />
          </Field>
          <Field
            label="Compose file path"
            id="f-compose_path"
            error={errs.compose_path}
            hint="Empty: compose.yaml, compose.yml, docker-compose.yaml or docker-compose.yml."
          >
            <input {...text('compose_path')} spellcheck={false} placeholder="compose.yaml" />
          </Field>
          <Field
            label="Extra compose files"
            id="f-compose_includes"
            error={errs.compose_includes}
            hint="One path per line, applied in order."
          >
            <textarea {...text('compose_includes')} rows={2} spellcheck={false} class="mono" />
          </Field>
          <Field label="Git username" id="f-repo_username" error={errs.repo_username}>
            <input {...text('repo_username')} autocomplete="off" spellcheck={false} />
          </Field>
          <SecretField
            label="Git token"
            name="repo_token"
            isSet={!!original?.has_repo_token}
            editing={!!original}
            value={form.repo_token}
            clear={form.clear_repo_token}
            onValue={(v) => set('repo_token', v)}
            onClear={(v) => set('clear_repo_token', v)}
            error={errs.repo_token}
          />
          <Field
            label="Commit status"
            id="f-commit_status"
            error={errs.commit_status}
            hint="Deployment results on the commit, with the git token. Auto: github.com, gitlab.com, codeberg.org, gitea.com."
          >
            <select
              id="f-commit_status"
              name="commit_status"
              value={form.commit_status}
              onChange={(e) => set('commit_status', e.currentTarget.value as Form['commit_status'])}
            >
              <option value="auto">auto (from the repository host)</option>
              <option value="github">GitHub</option>
              <option value="gitea">Gitea / Forgejo</option>
              <option value="gitlab">GitLab</option>
              <option value="off">off</option>
            </select>
          </Field>
          <Field
            label="Git host API URL"
            id="f-commit_status_api_url"
            error={errs.commit_status_api_url}
            hint="Self-hosted only, e.g. https://git.example.com/api/v1; empty: the host's usual path."
          >
            <input {...text('commit_status_api_url')} spellcheck={false} />
          </Field>
        </div>
      )}

      <details class="more" open={!!original}>
        <summary>Deployment options</summary>
        <div class="grid-2">
          <Field
            label="Variables"
            id="f-compose_variables"
            error={errs.compose_variables}
            hint="KEY=value per line; they override the repository's .env."
          >
            <textarea
              {...text('compose_variables')}
              rows={4}
              spellcheck={false}
              class="mono"
              data-testid="compose-variables"
            />
          </Field>
          <Field
            label="Services to deploy"
            id="f-service_filter"
            error={errs.service_filter}
            hint="Comma-separated; empty deploys all."
          >
            <input {...text('service_filter')} spellcheck={false} />
          </Field>
          <Field
            label="Reconcile every (seconds)"
            id="f-reconcile_interval_seconds"
            error={errs.reconcile_interval_seconds}
            hint="How often to check git and the running containers; 0 = never."
          >
            <input
              {...text('reconcile_interval_seconds')}
              type="number"
              min={0}
              step={1}
              inputMode="numeric"
            />
          </Field>
          <Field
            label="Check images every (seconds)"
            id="f-update_check_interval_seconds"
            error={errs.update_check_interval_seconds}
            hint="How often to ask the registry whether the tags point at newer images; 0 = never."
          >
            <input
              {...text('update_check_interval_seconds')}
              type="number"
              min={0}
              step={1}
              inputMode="numeric"
            />
          </Field>
          <Field
            label="Deploy timeout (seconds)"
            id="f-deploy_timeout_seconds"
            error={errs.deploy_timeout_seconds}
            hint="A deploy running longer is stopped and fails; empty: the server's default (900)."
          >
            <input
              {...text('deploy_timeout_seconds')}
              type="number"
              min={10}
              step={1}
              inputMode="numeric"
              placeholder="900"
            />
          </Field>
          <div class="field checks">
            <label class="check">
              <input
                type="checkbox"
                checked={form.auto_deploy}
                onChange={(e) => set('auto_deploy', e.currentTarget.checked)}
                data-testid="auto-deploy"
              />
              Deploy automatically on drift or a new commit
            </label>
            <label class="check">
              <input
                type="checkbox"
                checked={form.auto_rollback}
                onChange={(e) => set('auto_rollback', e.currentTarget.checked)}
                data-testid="auto-rollback"
              />
              Roll back automatically when a deploy fails
            </label>
            <label class="check">
              <input
                type="checkbox"
                checked={form.auto_update}
                onChange={(e) => set('auto_update', e.currentTarget.checked)}
                data-testid="auto-update"
              />
              Deploy newer images of the same tags automatically
            </label>
          </div>
        </div>
      </details>

      <details class="more" open={!!original}>
        <summary>Webhook and registry credentials</summary>
        <div class="grid-2">
          <SecretField
            label="Webhook secret"
            name="webhook_secret"
            isSet={!!original?.has_webhook_secret}
            editing={!!original}
            value={form.webhook_secret}
            clear={form.clear_webhook_secret}
            onValue={(v) => set('webhook_secret', v)}
            onClear={(v) => set('clear_webhook_secret', v)}
            error={errs.webhook_secret}
          />
          <Field
            label="Registry"
            id="f-docker_registry"
            error={errs.docker_registry}
            hint="e.g. ghcr.io; empty for Docker Hub."
          >
            <input {...text('docker_registry')} spellcheck={false} />
          </Field>
          <Field label="Registry username" id="f-docker_username" error={errs.docker_username}>
            <input {...text('docker_username')} autocomplete="off" spellcheck={false} />
          </Field>
          <SecretField
            label="Registry password"
            name="docker_password"
            isSet={!!original?.has_docker_password}
            editing={!!original}
            value={form.docker_password}
            clear={form.clear_docker_password}
            onValue={(v) => set('docker_password', v)}
            onClear={(v) => set('clear_docker_password', v)}
            error={errs.docker_password}
          />
        </div>
        <RegistriesEditor
          rows={form.registries}
          hasAny={!!original?.registries.length}
          onChange={(rows) =>
            setForm((f) => ({ ...f, registries: rows, registries_touched: true }))
          }
        />
      </details>

      <div class="form-foot">
        {showDeployNow ? (
          <label class="check">
            <input
              type="checkbox"
              checked={deployNow}
              onChange={(e) => setDeployNow(e.currentTarget.checked)}
              data-testid="deploy-now"
            />
            Deploy right away
          </label>
        ) : null}
        <ErrorNote error={error} testId="form-error" />
        {nothingChanged ? <output class="muted">Nothing changed.</output> : null}
        <button type="submit" class="btn btn-primary" disabled={busy} data-testid="submit-stack">
          {busy ? 'Saving…' : submitLabel}
        </button>
      </div>
    </form>
  );
}

function SecretField({
  label,
  name,
  isSet,
  editing,
  value,
  clear,
  onValue,
  onClear,
  error,
}: {
  label: string;
  name: string;
  isSet: boolean;
  editing: boolean;
  value: string;
  clear: boolean;
  onValue: (v: string) => void;
  onClear: (v: boolean) => void;
  error?: string;
}) {
  const id = `f-${name}`;
  return (
    <Field
      label={label}
      id={id}
      error={error}
      hint={
        editing ? (
          <>
            <span
              class={isSet ? 'secret-state secret-set' : 'secret-state'}
              data-testid={`${name}-state`}
            >
              {isSet ? 'set' : 'not set'}
            </span>{' '}
            {isSet ? 'Type a new value to replace it.' : 'Write-only: it is never shown again.'}
          </>
        ) : (
          'Write-only: it is never shown again.'
        )
      }
    >
      <input
        id={id}
        name={name}
        type="password"
        autocomplete="new-password"
        value={value}
        placeholder={isSet ? '••••••••  (unchanged)' : ''}
        disabled={clear}
        onInput={(e) => onValue(e.currentTarget.value)}
        aria-describedby={`${id}-hint`}
        data-testid={`secret-${name}`}
      />
      {editing && isSet ? (
        <label class="check check-sm">
          <input
            type="checkbox"
            checked={clear}
            onChange={(e) => onClear(e.currentTarget.checked)}
          />
          Remove it
        </label>
      ) : null}
    </Field>
  );
}

function RegistriesEditor({
  rows,
  hasAny,
  onChange,
}: {
  rows: Form['registries'];
  hasAny: boolean;
  onChange: (rows: Form['registries']) => void;
}) {
  const update = (i: number, patch: Partial<Form['registries'][number]>) =>
    onChange(rows.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  return (
    <fieldset class="registries">
      <legend>More registries</legend>
      <p class="hint">
        For more than one private registry. Changing this list replaces it whole, so enter each
        password again. {hasAny ? <span class="secret-state secret-set">set</span> : null}
      </p>
      {rows.map((r, i) => (
        <div class="registry-row" key={i}>
          <input
            aria-label={`Registry ${i + 1} host`}
            placeholder="registry.example.com"
            value={r.registry}
            onInput={(e) => update(i, { registry: e.currentTarget.value })}
          />
          <input
            aria-label={`Registry ${i + 1} username`}
            placeholder="username"
            value={r.username ?? ''}
            onInput={(e) => update(i, { username: e.currentTarget.value })}
          />
          <input
            aria-label={`Registry ${i + 1} password`}
            type="password"
            autocomplete="new-password"
            placeholder={r.has_password ? '•••• (set)' : 'password'}
            value={r.password ?? ''}
            onInput={(e) => update(i, { password: e.currentTarget.value })}
          />
          <button
            type="button"
            class="btn btn-sm"
            onClick={() => onChange(rows.filter((_, j) => j !== i))}
          >
            Remove
          </button>
        </div>
      ))}
      <button
        type="button"
        class="btn btn-sm"
        onClick={() => onChange([...rows, { registry: '', username: '', password: '' }])}
      >
        Add registry
      </button>
    </fieldset>
  );
}
