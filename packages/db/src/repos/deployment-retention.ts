import { FINISHED_STATUSES } from '@simpledeploy/core';
import { inArray, lt, sql } from 'drizzle-orm';
import type { Db } from '../client';
import { deployments, webhookDeliveries } from '../schema';

export interface RetentionRule {
  /** Finished deployments queued before this ISO time go; undefined: no age limit. */
  before?: string | undefined;
  /** A stack keeps at most this many deployments; 0 or undefined: no count limit. */
  keepPerStack?: number | undefined;
}

const finished = [...FINISHED_STATUSES].map((s) => `'${s}'`).join(', ');

/**
 * The ids of the deployments a retention rule removes, oldest first: finished ones queued
 * before `before` or past a stack's newest `keepPerStack`. Never a queued or running one,
 * and never, per stack, its latest deployment, its latest succeeded one (the last good
 * one) or the latest succeeded deployment of its current version. One pass over the
 * table (window functions), so the cost follows the table once, not stacks × history.
 */
export function deploymentsPastRetention(db: Db, rule: RetentionRule): string[] {
  const keep = rule.keepPerStack ?? 0;
  if (rule.before === undefined && keep <= 0) return [];
  const rows = db.all<{ id: string }>(sql`
    select id from (
      select d.id, d.status, d.queued_at, d.rowid as rid,
        (d.status = 'succeeded' and d.version_id is not null and d.version_id = s.current_version_id) as is_current,
        row_number() over (partition by d.stack_id order by d.queued_at desc, d.rowid desc) as rn,
        row_number() over (partition by d.stack_id, d.status = 'succeeded' order by d.queued_at desc, d.rowid desc) as rn_status,
        row_number() over (
          partition by d.stack_id,
            (d.status = 'succeeded' and d.version_id is not null and d.version_id = s.current_version_id)
          order by d.queued_at desc, d.rowid desc) as rn_current
      from ${deployments} d join stacks s on s.id = d.stack_id
    )
    where status in (${sql.raw(finished)})
      and rn > 1
      and not (status = 'succeeded' and rn_status = 1)
      and not (is_current and rn_current = 1)
      and (${rule.before === undefined ? sql`0` : sql`queued_at < ${rule.before}`}
           or ${keep > 0 ? sql`rn > ${keep}` : sql`0`})
    order by queued_at, rid`);
  return rows.map((r) => r.id);
}

/** Deletes these deployments (their stored logs with them); returns how many went. */
export function deleteDeployments(db: Db, ids: string[]): number {
  if (ids.length === 0) return 0;
  return db.delete(deployments).where(inArray(deployments.id, ids)).run().changes;
}

/** Forgets webhook delivery ids received before `before`; returns how many went. */
export const pruneWebhookDeliveries = (db: Db, before: string): number =>
  db.delete(webhookDeliveries).where(lt(webhookDeliveries.receivedAt, before)).run().changes;
