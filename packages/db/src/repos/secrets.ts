import { eq } from 'drizzle-orm';
import type { DbHandle } from '../client';
import { stacks } from '../schema';

/** The columns that hold SecretBox ciphertext: everything else in the database is not secret. */
export const SECRET_COLUMNS = ['repoTokenEnc', 'webhookSecretEnc', 'registriesEnc'] as const;

export interface ReencryptResult {
  stacks: number;
  values: number;
}

/**
 * Re-encrypts every secret column of every stack in one immediate transaction: either
 * all rows move to the new key or, when any value fails to decrypt (a wrong old key),
 * none does and the error propagates.
 */
export function reencryptSecrets(
  handle: DbHandle,
  decrypt: (stored: string) => string,
  encrypt: (plain: string) => string,
): ReencryptResult {
  const run = handle.sqlite.transaction((): ReencryptResult => {
    let touched = 0;
    let values = 0;
    for (const row of handle.db.select().from(stacks).all()) {
      const patch: Partial<Record<(typeof SECRET_COLUMNS)[number], string>> = {};
      for (const col of SECRET_COLUMNS) {
        const stored = row[col];
        if (!stored) continue;
        patch[col] = encrypt(decrypt(stored));
        values++;
      }
      if (Object.keys(patch).length === 0) continue;
      handle.db.update(stacks).set(patch).where(eq(stacks.id, row.id)).run();
      touched++;
    }
    return { stacks: touched, values };
  });
  return run.immediate();
}
