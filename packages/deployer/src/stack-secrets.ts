import {
  composeRedactors,
  createRedactor,
  type Redact,
  type RegistryCredential,
  type SecretBox,
} from '@simpledeploy/core';
import type { StackRow } from '@simpledeploy/db';

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

/** Redacts this stack's secrets on top of the server-wide ones (the API key above all). */
export function stackRedactor(secrets: StackSecrets, global: Redact): Redact {
  const values = [
    secrets.repoToken,
    secrets.webhookSecret,
    ...registryLogins(secrets.registries).map((r) => r.password),
  ];
  return composeRedactors(createRedactor(values), global);
}
