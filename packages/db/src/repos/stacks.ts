import { asc, eq, or, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { type NewStackRow, type StackRow, stacks } from '../schema';
import { tickCache } from '../stack-writes';
import { preparedPerDb } from './prepared';

export const insertStack = (db: Db, row: NewStackRow): StackRow =>
  db.insert(stacks).values(row).returning().get();

const byKey = preparedPerDb((db) => {
  const key = sql.placeholder('key');
  return db
    .select()
    .from(stacks)
    .where(or(eq(stacks.id, key), eq(stacks.name, key), eq(stacks.uuid, key)))
    .prepare();
});

/** `{stack}` in a path accepts the id, the name or the uuid. */
export const findStack = (db: Db, idOrName: string): StackRow | undefined =>
  byKey(db).get({ key: idOrName });

/**
 * The columns a request's access check (id and name, for the key's stacks and the audit
 * log) and a git host's push to the stack (its secret, signature header, and what the
 * branch and changed-file checks read) need: one read shared by both.
 */
const ACCESS_COLUMNS = {
  id: stacks.id,
  name: stacks.name,
  webhookSecretEnc: stacks.webhookSecretEnc,
  webhookSignatureHeader: stacks.webhookSignatureHeader,
  repoUrl: stacks.repoUrl,
  repoBranch: stacks.repoBranch,
  repoUsername: stacks.repoUsername,
  repoTokenEnc: stacks.repoTokenEnc,
  currentVersionId: stacks.currentVersionId,
  composePath: stacks.composePath,
  composeIncludes: stacks.composeIncludes,
} as const;

export type StackAccessRow = Pick<StackRow, keyof typeof ACCESS_COLUMNS>;

const accessByKey = preparedPerDb((db) => {
  const key = sql.placeholder('key');
  return db
    .select(ACCESS_COLUMNS)
    .from(stacks)
    .where(or(eq(stacks.id, key), eq(stacks.name, key), eq(stacks.uuid, key)))
    .prepare();
});

const accessRows = tickCache<Readonly<StackAccessRow> | undefined>();

/**
 * findStack with the access check's and a push's columns only: mapping the whole row
 * (compose text, variables, every setting) was most of the access check's cost per
 * signed push in a CPU profile of a burst. Read once per turn of the event loop and
 * `{stack}` while no write to stacks intervenes (tickCache): a burst of pushes to one
 * stack read its row once per push before, 7.7 % of the server's busy time. The row is
 * shared by every caller of that turn: frozen, never to be changed.
 */
export const findStackAccessRow = (
  db: Db,
  idOrName: string,
): Readonly<StackAccessRow> | undefined => {
  const cache = accessRows(db);
  if (cache?.has(idOrName)) return cache.get(idOrName);
  const row = accessByKey(db).get({ key: idOrName });
  const frozen = row ? Object.freeze(row) : undefined;
  cache?.set(idOrName, frozen);
  return frozen;
};

/** The columns a poll reads: the rest of a row is not needed to ask a remote for a commit. */
const POLL_COLUMNS = {
  id: stacks.id,
  name: stacks.name,
  reconcileIntervalSeconds: stacks.reconcileIntervalSeconds,
  repoUrl: stacks.repoUrl,
  repoBranch: stacks.repoBranch,
  repoUsername: stacks.repoUsername,
  repoTokenEnc: stacks.repoTokenEnc,
  remoteCommit: stacks.remoteCommit,
  deployedCommit: stacks.deployedCommit,
  currentVersionId: stacks.currentVersionId,
  autoDeploy: stacks.autoDeploy,
  pollFailures: stacks.pollFailures,
  lastPollError: stacks.lastPollError,
} as const;

export type StackPollState = Pick<StackRow, keyof typeof POLL_COLUMNS>;

const pollStateById = preparedPerDb((db) =>
  db
    .select(POLL_COLUMNS)
    .from(stacks)
    .where(eq(stacks.id, sql.placeholder('id')))
    .prepare(),
);

/**
 * What a poll needs of a stack, by id: mapping all of a row's columns for each of 1000
 * stacks every interval was a seventh of the server's polling CPU in a profile.
 */
export const findStackPollState = (db: Db, id: string): StackPollState | undefined =>
  pollStateById(db).get({ id });

const byName = preparedPerDb((db) =>
  db
    .select()
    .from(stacks)
    .where(eq(stacks.name, sql.placeholder('name')))
    .prepare(),
);

export const findStackByName = (db: Db, name: string): StackRow | undefined =>
  byName(db).get({ name });

export const listStacks = (db: Db): StackRow[] =>
  db.select().from(stacks).orderBy(asc(stacks.name)).all();

export const updateStack = (
  db: Db,
  id: string,
  patch: Partial<NewStackRow>,
): StackRow | undefined => db.update(stacks).set(patch).where(eq(stacks.id, id)).returning().get();

const pollTime = preparedPerDb((db) =>
  db
    .update(stacks)
    .set({ lastPollAt: sql`${sql.placeholder('at')}` })
    .where(eq(stacks.id, sql.placeholder('id')))
    .prepare(),
);

/**
 * The times of a round of polls that found nothing new, in one transaction, with a
 * statement prepared once: building the UPDATE and reading the row back (updateStack)
 * for every stack every interval was a third of the poller's CPU in a profile with 1000
 * stacks, and a commit per stack another twentieth.
 */
export const recordPollTimes = (db: Db, times: ReadonlyMap<string, string>): void => {
  if (times.size === 0) return;
  const statement = pollTime(db);
  db.transaction(() => {
    for (const [id, at] of times) statement.run({ id, at });
  });
};

const pollOutcome = preparedPerDb((db) =>
  db
    .update(stacks)
    .set({
      remoteCommit: sql`coalesce(${sql.placeholder('commit')}, ${stacks.remoteCommit})`,
      lastPollAt: sql`${sql.placeholder('at')}`,
      lastPollError: sql`${sql.placeholder('error')}`,
      pollFailures: sql`${sql.placeholder('failures')}`,
    })
    .where(eq(stacks.id, sql.placeholder('id')))
    .prepare(),
);

/**
 * A poll that found a new commit, failed or recovered: its outcome with a statement
 * prepared once and no row read back (the first round over 1000 stacks built and
 * returned 1000 UPDATEs through the query builder). `commit` undefined keeps the one known.
 */
export const recordPollOutcome = (
  db: Db,
  id: string,
  outcome: { at: string; commit?: string; error: string | null; failures: number },
): void => {
  pollOutcome(db).run({
    id,
    at: outcome.at,
    commit: outcome.commit ?? null,
    error: outcome.error,
    failures: outcome.failures,
  });
};

export const deleteStack = (db: Db, id: string): void => {
  db.delete(stacks).where(eq(stacks.id, id)).run();
};
