import type { DriftItem } from '@simpledeploy/compose';
import type { Metrics, Notify } from '@simpledeploy/core';

/**
 * Drift published as `drift.detected` and counted when a stack's drift appears or changes,
 * not on every check while it lasts. The reconciler and the crash watch share it.
 */
export function createDriftReports(deps: { metrics: Metrics; notify?: Notify | undefined }) {
  // The last drift reported per stack, as its signature (`type:service`, sorted).
  const seen = new Map<string, string>();

  return {
    /** Reports a check's items (none: the stack is clear again); returns their signature. */
    report(stack: { id: string; name: string }, items: DriftItem[]): string {
      const signature = items
        .map((i) => `${i.type}:${i.service}`)
        .sort()
        .join(',');
      if (!signature) {
        seen.delete(stack.id);
        return signature;
      }
      if (seen.get(stack.id) === signature) return signature;
      seen.set(stack.id, signature);
      deps.metrics.driftDetected();
      deps.notify?.publish({
        event: 'drift.detected',
        stack: stack.id,
        message: `${stack.name} drifted from its deployed version: ${signature}`,
        details: { drift: items },
      });
      return signature;
    },
    /** Forgets a stack that is no longer checked. */
    forget(stackId: string): void {
      seen.delete(stackId);
    },
    /** Forgets every stack but these. */
    keepOnly(stackIds: ReadonlySet<string>): void {
      for (const id of seen.keys()) if (!stackIds.has(id)) seen.delete(id);
    },
  };
}
