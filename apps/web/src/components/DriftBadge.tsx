import type { Drift } from '../api';

/** "in sync", or what is off: how many services drifted and whether git is ahead. */
export function DriftBadge({ drift }: { drift: Drift }) {
  if (drift.in_sync) {
    return (
      <span class="badge badge-succeeded" data-testid="drift-badge" data-in-sync="true">
        in sync
      </span>
    );
  }
  const parts: string[] = [];
  if (drift.services.length) {
    parts.push(`${drift.services.length} service${drift.services.length === 1 ? '' : 's'}`);
  }
  if (drift.git?.behind) parts.push('new commit');
  return (
    <span class="badge badge-drift" data-testid="drift-badge" data-in-sync="false">
      drift{parts.length ? `: ${parts.join(', ')}` : ''}
    </span>
  );
}
