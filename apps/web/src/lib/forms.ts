// Converting between a stack's fields and the text inputs that edit them.
import type { Stack, StackInput } from '../api';

/** One row of the registries editor: a password is entered again whenever the list changes. */
export interface RegistryRow {
  registry: string;
  username: string;
  password: string;
  has_password?: boolean;
}

export const NAME_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;

export function nameProblem(name: string): string | null {
  if (!name) return 'A name is required.';
  if (!NAME_PATTERN.test(name)) {
    return 'Use lowercase letters, digits, "-" and "_", starting with a letter or digit (at most 63).';
  }
  return null;
}

/** `KEY=value` lines to an object; blank lines and `#` comments are skipped. */
export function parseVariables(text: string): { value: Record<string, string>; errors: string[] } {
  const value: Record<string, string> = {};
  const errors: string[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const eq = line.indexOf('=');
    const key = eq === -1 ? line : line.slice(0, eq).trim();
    if (eq === -1 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      errors.push(`Line ${i + 1}: expected KEY=value.`);
      return;
    }
    value[key] = raw.slice(raw.indexOf('=') + 1);
  });
  return { value, errors };
}

export function formatVariables(vars: Record<string, string> | null | undefined): string {
  return Object.entries(vars ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join('\n');
}

/** A list typed as lines or commas. */
export function parseList(text: string): string[] {
  return text
    .split(/[\n,]/)
    .map((s) => s.trim())
    .filter(Boolean);
}

export interface StackForm {
  name: string;
  compose: string;
  repo_url: string;
  repo_branch: string;
  compose_path: string;
  compose_includes: string;
  compose_variables: string;
  service_filter: string;
  auto_deploy: boolean;
  reconcile_interval_seconds: string;
  /** Empty: the server's default. */
  deploy_timeout_seconds: string;
  auto_rollback: boolean;
  auto_update: boolean;
  update_check_interval_seconds: string;
  commit_status: NonNullable<StackInput['commit_status']>;
  commit_status_api_url: string;
  repo_username: string;
  docker_registry: string;
  docker_username: string;
  // Secrets: blank means "keep what the server has".
  repo_token: string;
  webhook_secret: string;
  docker_password: string;
  clear_repo_token: boolean;
  clear_webhook_secret: boolean;
  clear_docker_password: boolean;
  registries: RegistryRow[];
  registries_touched: boolean;
}

export function formFromStack(s: Stack | null): StackForm {
  return {
    name: s?.name ?? '',
    compose: s?.compose ?? '',
    repo_url: s?.repo_url ?? '',
    repo_branch: s?.repo_branch ?? '',
    compose_path: s?.compose_path ?? '',
    compose_includes: (s?.compose_includes ?? []).join('\n'),
    compose_variables: formatVariables(s?.compose_variables),
    service_filter: (s?.service_filter ?? []).join(', '),
    auto_deploy: s?.auto_deploy ?? false,
    reconcile_interval_seconds: String(s?.reconcile_interval_seconds ?? 0),
    deploy_timeout_seconds:
      s?.deploy_timeout_seconds == null ? '' : String(s.deploy_timeout_seconds),
    auto_rollback: s?.auto_rollback ?? true,
    auto_update: s?.auto_update ?? false,
    update_check_interval_seconds: String(s?.update_check_interval_seconds ?? 0),
    commit_status: s?.commit_status ?? 'auto',
    commit_status_api_url: s?.commit_status_api_url ?? '',
    repo_username: s?.repo_username ?? '',
    docker_registry: s?.docker_registry ?? '',
    docker_username: s?.docker_username ?? '',
    repo_token: '',
    webhook_secret: '',
    docker_password: '',
    clear_repo_token: false,
    clear_webhook_secret: false,
    clear_docker_password: false,
    registries: (s?.registries ?? []).map((r) => ({
      registry: r.registry,
      username: r.username,
      password: '',
      has_password: r.has_password,
    })),
    registries_touched: false,
  };
}

const orNull = (s: string) => (s.trim() === '' ? null : s.trim());

/**
 * The request body for a form: everything for a new stack, or for an existing one
 * only the fields that changed (PATCH changes only what it is sent).
 */
export function stackInput(
  form: StackForm,
  source: 'compose' | 'git',
  original: Stack | null,
): { input: StackInput; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const vars = parseVariables(form.compose_variables);
  if (vars.errors.length) errors.compose_variables = vars.errors.join(' ');
  const interval = Number(form.reconcile_interval_seconds || 0);
  if (!Number.isInteger(interval) || interval < 0) {
    errors.reconcile_interval_seconds = 'Enter a whole number of seconds (0 = never).';
  }
  const updateEvery = Number(form.update_check_interval_seconds || 0);
  if (!Number.isInteger(updateEvery) || updateEvery < 0 || (updateEvery > 0 && updateEvery < 10)) {
    errors.update_check_interval_seconds = 'Enter 0 (never) or a whole number of seconds from 10.';
  }
  const timeoutText = form.deploy_timeout_seconds.trim();
  const timeout = timeoutText === '' ? undefined : Number(timeoutText);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 10 && timeout <= 86_400)) {
    errors.deploy_timeout_seconds = 'Enter a whole number of seconds from 10 to 86400.';
  }
  const nameErr = nameProblem(form.name);
  if (nameErr) errors.name = nameErr;
  if (source === 'git' && !/^https?:\/\/\S+$/.test(form.repo_url.trim())) {
    errors.repo_url = 'Enter an http(s) repository URL.';
  }

  const full: StackInput = {
    name: form.name,
    ...(source === 'compose'
      ? { compose: form.compose }
      : {
          repo_url: form.repo_url.trim(),
          repo_branch: orNull(form.repo_branch),
          compose_path: orNull(form.compose_path),
          compose_includes: parseList(form.compose_includes),
          repo_username: orNull(form.repo_username),
        }),
    compose_variables: vars.value,
    service_filter: parseList(form.service_filter),
    auto_deploy: form.auto_deploy,
    reconcile_interval_seconds: Number.isInteger(interval) ? interval : 0,
    ...(timeout !== undefined && Number.isInteger(timeout)
      ? { deploy_timeout_seconds: timeout }
      : {}),
    auto_rollback: form.auto_rollback,
    auto_update: form.auto_update,
    update_check_interval_seconds: Number.isInteger(updateEvery) ? updateEvery : 0,
    ...(source === 'git'
      ? {
          commit_status: form.commit_status,
          commit_status_api_url: orNull(form.commit_status_api_url),
        }
      : {}),
    docker_registry: orNull(form.docker_registry),
    docker_username: orNull(form.docker_username),
  };
  const secrets: Array<['repo_token' | 'webhook_secret' | 'docker_password', boolean]> = [
    ['repo_token', form.clear_repo_token],
    ['webhook_secret', form.clear_webhook_secret],
    ['docker_password', form.clear_docker_password],
  ];
  for (const [key, clear] of secrets) {
    if (form[key]) full[key] = form[key];
    else if (clear && original) full[key] = null;
  }
  if (form.registries_touched || (!original && form.registries.length)) {
    full.registries = form.registries
      .filter((r) => r.registry.trim())
      // The API takes all three: a row without its password is refused with a message.
      .map((r) => ({ registry: r.registry.trim(), username: r.username, password: r.password }));
  }
  if (!original) {
    // A new stack: leave out empty optional fields so server defaults apply.
    const input = Object.fromEntries(
      Object.entries(full).filter(([, v]) => v !== null && v !== '' && !isEmptyCollection(v)),
    ) as StackInput;
    return { input, errors };
  }
  const before = stackInput(formFromStack(original), source, null).input;
  const input: StackInput = {};
  for (const [k, v] of Object.entries(full) as Array<[keyof StackInput, unknown]>) {
    const secret = k === 'repo_token' || k === 'webhook_secret' || k === 'docker_password';
    const prev = (before as Record<string, unknown>)[k];
    if (secret || k === 'registries' || !sameValue(prev, v)) {
      (input as Record<string, unknown>)[k] = v;
    }
  }
  return { input, errors };
}

function isEmptyCollection(v: unknown): boolean {
  if (Array.isArray(v)) return v.length === 0;
  return !!v && typeof v === 'object' && Object.keys(v).length === 0;
}

function sameValue(a: unknown, b: unknown): boolean {
  const norm = (x: unknown) => (x === undefined || x === '' || isEmptyCollection(x) ? null : x);
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}
