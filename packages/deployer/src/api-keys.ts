import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  type Clock,
  conflict,
  type Logger,
  notFound,
  ROLES,
  type Role,
  validation,
} from '@simpledeploy/core';
import {
  type ApiKeyRow,
  type Db,
  deleteApiKey,
  findApiKeyByName,
  findStack,
  insertApiKey,
  listApiKeys,
  touchApiKey,
} from '@simpledeploy/db';
import { z } from 'zod';

/** The name the key from the environment (SIMPLEDEPLOY_API_KEY) goes by: reserved. */
export const ENVIRONMENT_KEY_NAME = 'environment';

/** Who a request comes from, once its key is known. */
export interface KeyPrincipal {
  id: string;
  name: string;
  role: Role;
  /** Ids of the stacks the key is limited to; empty = every stack. */
  stacks: string[];
}

/** A key as the API shows it: never its material or hash. */
export interface KeyView {
  id: string;
  name: string;
  role: Role;
  /** The names of the stacks it is limited to (the id when the stack is gone); [] = all. */
  stacks: string[];
  created_at: string | null;
  last_used_at: string | null;
}

/** What POST /api/v1/keys answers, once: the view plus the key itself. */
export type CreatedKey = KeyView & { secret: string };

const keyBody = z.strictObject({
  name: z
    .string()
    .trim()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9 ._@:/+-]{0,63}$/,
      'name must be 1-64 letters, digits, spaces or . _ @ : / + -, starting with a letter or digit',
    ),
  role: z.enum(ROLES, { error: `role must be one of ${ROLES.join(', ')}` }),
  stacks: z
    .array(z.string().min(1).max(128), { error: 'stacks must be a list of stack names or ids' })
    .max(200)
    .default([]),
});

/** What POST /api/v1/keys takes, checked: the rules and messages are the domain's. */
export type KeyInput = z.output<typeof keyBody>;

/** Checks a key body (`name`, `role`, `stacks`); a 400 VALIDATION listing every problem. */
export function parseKeyBody(body: unknown): KeyInput {
  if (!body || typeof body !== 'object' || Array.isArray(body))
    throw validation(
      'the request body must be a JSON object like {"name": "ci", "role": "deployer"}',
    );
  const res = keyBody.safeParse(body);
  if (!res.success) {
    const problems = res.error.issues.map((i) =>
      i.code === 'unrecognized_keys'
        ? `unknown field ${i.keys.map((k) => `"${k}"`).join(', ')}: send name, role and stacks`
        : i.message.startsWith(String(i.path[0] ?? ' '))
          ? i.message
          : `${i.path.join('.') || 'body'}: ${i.message}`,
    );
    throw validation(problems.join('; '), { problems });
  }
  return res.data;
}

/** last_used_at is written at most this often per key, not on every request. */
const TOUCH_EVERY_MS = 60_000;

/**
 * A new key: 32 random bytes. Stored as a plain sha256, not bcrypt or argon2: those
 * slow hashes protect low-entropy passwords from guessing, while 256 random bits cannot
 * be guessed from their hash, and a fast hash keeps every request's check cheap.
 */
const newSecret = () => `sdk_${randomBytes(32).toString('base64url')}`;
const hashOf = (secret: string) => createHash('sha256').update(secret).digest();

export interface KeyServiceDeps {
  db: Db;
  clock: Clock;
  logger: Logger;
  ids: (prefix: string) => string;
}

/**
 * The stored API keys: create (shown once), list, revoke, and who a presented key is.
 * The key from the environment is not stored: the api treats it as the first admin key.
 */
export function createKeyService({ db, clock, logger, ids }: KeyServiceDeps) {
  // Every key's hash in memory, refreshed on each change this service makes (the only writer).
  let cache: { row: ApiKeyRow; hash: Buffer }[] | undefined;
  const keys = () => {
    cache ??= listApiKeys(db).map((row) => ({ row, hash: Buffer.from(row.keyHash, 'hex') }));
    return cache;
  };
  const revoked = new Set<(id: string) => void>();

  const stackName = (id: string) => findStack(db, id)?.name ?? id;
  const toView = (row: ApiKeyRow): KeyView => ({
    id: row.id,
    name: row.name,
    role: row.role,
    stacks: row.stacks.map(stackName),
    created_at: row.createdAt,
    last_used_at: row.lastUsedAt,
  });

  return {
    /** Creates a key; the answer carries it once, as `secret`. */
    create(body: z.input<typeof keyBody>): CreatedKey {
      const input = parseKeyBody(body);
      if (input.name.toLowerCase() === ENVIRONMENT_KEY_NAME)
        throw validation(`"${ENVIRONMENT_KEY_NAME}" names the key from SIMPLEDEPLOY_API_KEY`, {
          field: 'name',
        });
      if (input.role === 'admin' && input.stacks.length > 0)
        throw validation(
          'an admin key acts on every stack: give stacks only to deployer or viewer keys',
          {
            field: 'stacks',
          },
        );
      if (findApiKeyByName(db, input.name))
        throw conflict(`a key named "${input.name}" already exists`, { field: 'name' });
      // Kept by id: a stack deleted and created again under the same name is not granted.
      const stackIds = [...new Set(input.stacks)].map((s) => {
        const stack = findStack(db, s);
        if (!stack) throw validation(`stacks: stack '${s}' does not exist`, { field: 'stacks' });
        return stack.id;
      });
      const secret = newSecret();
      const row = insertApiKey(db, {
        id: ids('key'),
        name: input.name,
        role: input.role,
        stacks: [...new Set(stackIds)],
        keyHash: hashOf(secret).toString('hex'),
        createdAt: clock.now().toISOString(),
      });
      cache = undefined;
      return { ...toView(row), secret };
    },

    list: (): KeyView[] => keys().map((k) => toView(k.row)),

    view(id: string): KeyView {
      const k = keys().find((x) => x.row.id === id);
      if (!k) throw notFound('key', id);
      return toView(k.row);
    },

    /** Deletes a key: the next request with it is a 401 and its open streams close. */
    revoke(id: string): KeyView {
      const k = keys().find((x) => x.row.id === id);
      if (!k) throw notFound('key', id);
      deleteApiKey(db, id);
      cache = undefined;
      for (const fn of revoked) {
        try {
          fn(id);
        } catch (error) {
          logger.error('a revocation listener failed', { error });
        }
      }
      return toView(k.row);
    },

    /**
     * The stored key `presented` is, or undefined. Its hash is compared with every key's
     * in constant time, and all of them are visited, so timing tells nothing.
     */
    authenticate(presented: string): KeyPrincipal | undefined {
      const hash = hashOf(presented);
      let found: ApiKeyRow | undefined;
      for (const k of keys()) if (timingSafeEqual(hash, k.hash)) found = k.row;
      if (!found) return undefined;
      const now = clock.now();
      const last = found.lastUsedAt ? Date.parse(found.lastUsedAt) : 0;
      if (now.getTime() - last >= TOUCH_EVERY_MS) {
        try {
          touchApiKey(db, found.id, now.toISOString());
          found.lastUsedAt = now.toISOString();
        } catch (error) {
          // A busy database must not turn a valid key away: last_used_at can wait.
          logger.warn('cannot record when an API key was last used', { error, key: found.name });
        }
      }
      return { id: found.id, name: found.name, role: found.role, stacks: [...found.stacks] };
    },

    /** Calls fn with a key's id when it is revoked (open streams close on it). */
    onRevoke(fn: (id: string) => void): () => void {
      revoked.add(fn);
      return () => revoked.delete(fn);
    },
  };
}

export type KeyService = ReturnType<typeof createKeyService>;
