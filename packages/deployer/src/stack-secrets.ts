import {
  composeRedactors,
  createRedactor,
  type Logger,
  type Redact,
  type RegistryCredential,
  type SecretBox,
  type SecretRegistry,
} from '@simpledeploy/core';
import { type Db, findStack, listStacks, type StackRow } from '@simpledeploy/db';

/** What `registries_enc` holds once decrypted. */
export interface StoredRegistries {
  docker?: { registry: string | null; username: string | null; password: string | null };
  extra: RegistryCredential[];
}

export interface StackSecrets {
  repoToken: string | undefined;
  webhookSecret: string | undefined;
  registries: StoredRegistries;
}

const EMPTY: StoredRegistries = { extra: [] };

export function decryptSecrets(row: StackRow, box: SecretBox): StackSecrets {
  return {
    repoToken: row.repoTokenEnc ? box.decrypt(row.repoTokenEnc) : undefined,
    webhookSecret: row.webhookSecretEnc ? box.decrypt(row.webhookSecretEnc) : undefined,
    registries: row.registriesEnc
      ? (JSON.parse(box.decrypt(row.registriesEnc)) as StoredRegistries)
      : EMPTY,
  };
}

/** Docker Hub when docker_registry is not given, as `docker login` does. */
export const DEFAULT_REGISTRY = 'https://index.docker.io/v1/';

/** Every registry login the deploy needs, docker_* first. */
export function registryLogins(reg: StoredRegistries): RegistryCredential[] {
  const out: RegistryCredential[] = [];
  const d = reg.docker;
  if (d?.username && d.password) {
    out.push({
      registry: d.registry || DEFAULT_REGISTRY,
      username: d.username,
      password: d.password,
    });
  }
  return [...out, ...reg.extra];
}

/**
 * Every secret value of a stack, in the forms it can leak in: the values themselves and,
 * for registries, `user:password` (whose base64 is the `auth` of a docker config.json).
 */
export function secretValues(secrets: StackSecrets): string[] {
  const out: string[] = [];
  if (secrets.repoToken) out.push(secrets.repoToken);
  if (secrets.webhookSecret) out.push(secrets.webhookSecret);
  for (const r of registryLogins(secrets.registries)) {
    out.push(r.password, `${r.username}:${r.password}`);
  }
  // A password without a username (refused on input, but possible in old rows).
  if (secrets.registries.docker?.password) out.push(secrets.registries.docker.password);
  return out;
}

/** Redacts this stack's secrets on top of the server-wide ones (the API key above all). */
export function stackRedactor(secrets: StackSecrets, global: Redact): Redact {
  return composeRedactors(createRedactor(secretValues(secrets)), global);
}

/** stackRedactor for a stored row; the global redactor alone when the row cannot be decrypted. */
export function rowRedactor(row: StackRow, box: SecretBox, global: Redact): Redact {
  try {
    return stackRedactor(decryptSecrets(row, box), global);
  } catch {
    return global;
  }
}

/**
 * Keeps a SecretRegistry in step with the stacks table: every stack's secrets now, and
 * again whenever a stack changes, so the server log redacts them too.
 */
export function trackStackSecrets(deps: {
  db: Db;
  box: SecretBox;
  registry: SecretRegistry;
  onChange: (listener: (e: { type: string; stackId?: string }) => void) => () => void;
  logger?: Logger;
}): () => void {
  const refresh = (row: StackRow) => {
    try {
      deps.registry.set(row.id, secretValues(decryptSecrets(row, deps.box)));
    } catch (error) {
      // A row the key cannot decrypt has nothing to leak either; the deploy reports it.
      deps.logger?.warn('cannot read the secrets of a stack', { stack: row.name, error });
    }
  };
  for (const row of listStacks(deps.db)) refresh(row);
  return deps.onChange((e) => {
    if (e.type !== 'stack' || !e.stackId) return;
    const row = findStack(deps.db, e.stackId);
    if (row) refresh(row);
    else deps.registry.delete(e.stackId);
  });
}
