import { type Clock, type Logger, validation } from '@simpledeploy/core';
import {
  type AuditRow,
  type Db,
  insertAudits,
  listAudit,
  type NewAuditRow,
  pruneAudit,
} from '@simpledeploy/db';

/** How an audited caller proved who it is. */
export type AuditVia = 'key' | 'signature' | 'system';
/** `ok` (2xx/3xx), `unauthorized` (401), `forbidden` (403), `error` (any other failure). */
export type AuditResult = 'ok' | 'unauthorized' | 'forbidden' | 'error';

/** One change or action to record. Never a request body: secrets stay out. */
export interface AuditEntry {
  keyId?: string | undefined;
  keyName?: string | undefined;
  via: AuditVia;
  /** What was done, e.g. `stack.deploy`. */
  action: string;
  /** What it was done to, e.g. `stack web`, `deployment dep_…`. */
  target?: string | undefined;
  stackId?: string | undefined;
  stackName?: string | undefined;
  requestId?: string | undefined;
  result: AuditResult;
  /** The HTTP status answered, when there was a request. */
  status?: number | undefined;
}

/** An entry as `GET /api/v1/audit` shows it. */
export interface AuditView {
  at: string;
  key_name: string | null;
  via: string;
  action: string;
  target: string | null;
  stack_id: string | null;
  stack_name: string | null;
  request_id: string | null;
  result: string;
  status: number | null;
}

export const resultOf = (status: number): AuditResult =>
  status < 400 ? 'ok' : status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : 'error';

const toView = (r: AuditRow): AuditView => ({
  at: r.at,
  key_name: r.keyName,
  via: r.via,
  action: r.action,
  target: r.target,
  stack_id: r.stackId,
  stack_name: r.stackName,
  request_id: r.requestId,
  result: r.result,
  status: r.status,
});

export const MAX_AUDIT_LIMIT = 1000;
const DEFAULT_AUDIT_LIMIT = 100;
const DAY_MS = 24 * 60 * 60 * 1000;

export interface AuditListQuery {
  stack?: string | undefined;
  key?: string | undefined;
  limit?: string | number | undefined;
  /** Only these stacks' entries (a key limited to some stacks reads only theirs). */
  stackIds?: string[] | undefined;
}

/** The audit log in SQLite: every change and action, who did it and how it ended. */
export function createAuditLog({ db, clock, logger }: { db: Db; clock: Clock; logger: Logger }) {
  // Entries of one tick are written together, in one transaction: a burst of signed
  // webhooks committed one audit row per push, the largest SQLite cost of the burst.
  // Every read (and prune) writes what is pending first, so a list sees every entry
  // recorded before it.
  let pending: NewAuditRow[] = [];
  function flush(): void {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    try {
      insertAudits(db, rows);
    } catch (error) {
      logger.error('cannot write to the audit log', {
        error,
        action: [...new Set(rows.map((r) => r.action))].join(', '),
      });
    }
  }
  return {
    /** Records an entry (written by the end of the tick); a failure is logged, never thrown (the action itself happened). */
    record(e: AuditEntry): void {
      if (pending.length === 0) setImmediate(flush);
      pending.push({
        at: clock.now().toISOString(),
        keyId: e.keyId ?? null,
        keyName: e.keyName ?? null,
        via: e.via,
        action: e.action,
        target: e.target ?? null,
        stackId: e.stackId ?? null,
        stackName: e.stackName ?? null,
        requestId: e.requestId ?? null,
        result: e.result,
        status: e.status ?? null,
      });
    },

    /** Writes the entries recorded so far and not yet written. */
    flush,

    /** Newest first; `limit` defaults to 100, at most 1000. */
    list(q: AuditListQuery = {}): AuditView[] {
      flush();
      let limit = DEFAULT_AUDIT_LIMIT;
      if (q.limit !== undefined) {
        const n = Number(q.limit);
        if (!Number.isInteger(n) || n < 1 || n > MAX_AUDIT_LIMIT)
          throw validation(`limit must be a whole number from 1 to ${MAX_AUDIT_LIMIT}`, {
            field: 'limit',
          });
        limit = n;
      }
      return listAudit(db, { stack: q.stack, key: q.key, stackIds: q.stackIds, limit }).map(toView);
    },

    /** Deletes entries older than `days` (0 keeps everything); returns how many went. */
    prune(days: number): number {
      if (days <= 0) return 0;
      flush();
      return pruneAudit(db, new Date(clock.now().getTime() - days * DAY_MS).toISOString());
    },
  };
}

export type AuditLog = ReturnType<typeof createAuditLog>;
