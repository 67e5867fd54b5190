import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from './config';
import { loadOrCreateKey, resolveKeys } from './keys';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'sd-keys-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const mode = (path: string) => statSync(path).mode & 0o777;

describe('loadOrCreateKey', () => {
  it('generates a random key into a 0600 file, then reuses it', () => {
    const path = join(dir, 'api-key');
    const first = loadOrCreateKey(path);
    expect(first.generated).toBe(true);
    expect(first.value).toMatch(/^[\w-]{43}$/);
    expect(mode(path)).toBe(0o600);
    expect(readFileSync(path, 'utf8')).toBe(`${first.value}\n`);

    const second = loadOrCreateKey(path);
    expect(second).toEqual({ value: first.value, path, generated: false });
  });

  it('tightens a key file others can read', () => {
    const path = join(dir, 'api-key');
    writeFileSync(path, 'an-existing-key-of-some-length\n');
    chmodSync(path, 0o644);
    expect(loadOrCreateKey(path).value).toBe('an-existing-key-of-some-length');
    expect(mode(path)).toBe(0o600);
  });

  it('refuses an empty key file', () => {
    const path = join(dir, 'api-key');
    writeFileSync(path, '\n');
    expect(() => loadOrCreateKey(path)).toThrow(/is empty/);
  });
});

describe('resolveKeys', () => {
  it('keeps keys set in the environment and writes no files', () => {
    const config = loadConfig({
      SIMPLEDEPLOY_DATA_DIR: dir,
      SIMPLEDEPLOY_API_KEY: 'a'.repeat(20),
      SIMPLEDEPLOY_SECRET_KEY: 'b'.repeat(20),
    });
    const resolved = resolveKeys(config);
    expect(resolved.config.apiKey).toBe('a'.repeat(20));
    expect(resolved.config.secretKey).toBe('b'.repeat(20));
    expect(resolved.apiKeyFile).toBeUndefined();
    expect(resolved.secretKeyFile).toBeUndefined();
  });

  it('generates both keys into the data dir when unset', () => {
    const resolved = resolveKeys(loadConfig({ SIMPLEDEPLOY_DATA_DIR: dir }));
    expect(resolved.apiKeyFile).toMatchObject({ path: join(dir, 'api-key'), generated: true });
    expect(resolved.secretKeyFile).toMatchObject({
      path: join(dir, 'secret-key'),
      generated: true,
    });
    expect(resolved.config.apiKey).not.toBe(resolved.config.secretKey);
    expect(resolveKeys(loadConfig({ SIMPLEDEPLOY_DATA_DIR: dir })).config.apiKey).toBe(
      resolved.config.apiKey,
    );
  });
});
