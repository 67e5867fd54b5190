import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { AppError } from './errors';

const PREFIX = 'enc:v1:';

/** AES-256-GCM for secrets at rest. The stored form is `enc:v1:<iv>.<tag>.<ciphertext>` in base64url. */
export interface SecretBox {
  encrypt(plaintext: string): string;
  decrypt(stored: string): string;
}

/** Any string key is stretched to 32 bytes, so operators can use a passphrase or a hex key. */
export function keyFromString(secret: string): Buffer {
  if (/^[0-9a-f]{64}$/i.test(secret)) return Buffer.from(secret, 'hex');
  return createHash('sha256').update(secret).digest();
}

export function createSecretBox(secret: string): SecretBox {
  const key = keyFromString(secret);
  return {
    encrypt(plaintext) {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const ct = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
      const tag = cipher.getAuthTag();
      return `${PREFIX}${iv.toString('base64url')}.${tag.toString('base64url')}.${ct.toString('base64url')}`;
    },
    decrypt(stored) {
      if (!stored.startsWith(PREFIX)) {
        throw new AppError('INTERNAL', 'a stored secret is not in the expected encrypted form');
      }
      const [iv, tag, ct] = stored.slice(PREFIX.length).split('.');
      if (!iv || !tag || ct === undefined) {
        throw new AppError('INTERNAL', 'a stored secret is malformed');
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
        decipher.setAuthTag(Buffer.from(tag, 'base64url'));
        return Buffer.concat([
          decipher.update(Buffer.from(ct, 'base64url')),
          decipher.final(),
        ]).toString('utf8');
      } catch {
        throw new AppError(
          'INTERNAL',
          'a stored secret cannot be decrypted: SIMPLEDEPLOY_SECRET_KEY is not the key it was written with',
        );
      }
    },
  };
}

export const isEncrypted = (s: string) => s.startsWith(PREFIX);
