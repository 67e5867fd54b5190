import { eq } from 'drizzle-orm';
import type { SQLiteColumn, SQLiteTable } from 'drizzle-orm/sqlite-core';
import type { DbHandle } from '../client';
import { hosts, notifiers, stacks } from '../schema';

/** The columns that hold SecretBox ciphertext: everything else in the database is not secret. */
export const SECRET_COLUMNS = ['repoTokenEnc', 'webhookSecretEnc', 'registriesEnc'] as const;
/** Hosts' keys and certificates. */
export const HOST_SECRET_COLUMNS = [
  'sshPrivateKeyEnc',
  'tlsCaEnc',
  'tlsCertEnc',
  'tlsKeyEnc',
] as const;
/** Notifiers' URLs (the URL is the credential for Slack, Discord, SMTP) and secrets. */
export const NOTIFIER_SECRET_COLUMNS = ['urlEnc', 'secretEnc'] as const;

export interface ReencryptResult {
  stacks: number;
  values: number;
}

type Table = SQLiteTable & { id: SQLiteColumn };

/**
 * Re-encrypts every secret column of every stack, host and notifier in one immediate
 * transaction: either all rows move to the new key or, when any value fails to decrypt (a
 * wrong old key), none does and the error propagates. `stacks` counts the rows touched.
 */
export function reencryptSecrets(
  handle: DbHandle,
  decrypt: (stored: string) => string,
  encrypt: (plain: string) => string,
): ReencryptResult {
  const each = (table: Table, columns: readonly string[]) => {
    let touched = 0;
    let values = 0;
    for (const row of handle.db.select().from(table).all() as Record<string, unknown>[]) {
      const patch: Record<string, string> = {};
      for (const col of columns) {
        const stored = row[col];
        if (typeof stored !== 'string' || !stored) continue;
        patch[col] = encrypt(decrypt(stored));
        values++;
      }
      if (Object.keys(patch).length === 0) continue;
      handle.db
        .update(table)
        .set(patch)
        .where(eq(table.id, row.id as string))
        .run();
      touched++;
    }
    return { touched, values };
  };
  const run = handle.sqlite.transaction((): ReencryptResult => {
    const parts = [
      each(stacks as unknown as Table, SECRET_COLUMNS),
      each(hosts as unknown as Table, HOST_SECRET_COLUMNS),
      each(notifiers as unknown as Table, NOTIFIER_SECRET_COLUMNS),
    ];
    return {
      stacks: parts.reduce((n, p) => n + p.touched, 0),
      values: parts.reduce((n, p) => n + p.values, 0),
    };
  });
  return run.immediate();
}
