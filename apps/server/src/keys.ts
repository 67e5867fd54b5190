import { randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config, ServerConfig } from './config';

export interface StoredKey {
  value: string;
  path: string;
  /** True when this call created the file. */
  generated: boolean;
}

/**
 * Reads the key stored at path, or generates a random one there (mode 0600). A file
 * readable by others is tightened to 0600.
 */
export function loadOrCreateKey(path: string): StoredKey {
  let existing: string | undefined;
  try {
    existing = readFileSync(path, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  if (existing !== undefined) {
    if (existing.length === 0) throw new Error(`${path} is empty: delete it to generate a new key`);
    if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
    return { value: existing, path, generated: false };
  }
  const value = randomBytes(32).toString('base64url');
  // 'wx' fails instead of overwriting if another process created the file meanwhile.
  writeFileSync(path, `${value}\n`, { mode: 0o600, flag: 'wx' });
  chmodSync(path, 0o600);
  return { value, path, generated: true };
}

export interface ResolvedKeys {
  config: ServerConfig;
  /** Set when the API key came from (or was just written to) `<dataDir>/api-key`. */
  apiKeyFile?: StoredKey;
  /** Set when the secret key came from (or was just written to) `<dataDir>/secret-key`. */
  secretKeyFile?: StoredKey;
}

/** Fills in the keys the environment did not set, from files in the data dir (which must exist). */
export function resolveKeys(config: Config): ResolvedKeys {
  const apiKeyFile = config.apiKey ? undefined : loadOrCreateKey(join(config.dataDir, 'api-key'));
  const secretKeyFile = config.secretKey
    ? undefined
    : loadOrCreateKey(join(config.dataDir, 'secret-key'));
  return {
    config: {
      ...config,
      apiKey: config.apiKey ?? apiKeyFile!.value,
      secretKey: config.secretKey ?? secretKeyFile!.value,
    },
    ...(apiKeyFile ? { apiKeyFile } : {}),
    ...(secretKeyFile ? { secretKeyFile } : {}),
  };
}
