import type { Stack } from '../api';
import { Time } from './ui';

/** "update available" when the last image check found newer images for the stack's tags. */
export function UpdateBadge({ stack }: { stack: Pick<Stack, 'image_updates' | 'auto_update'> }) {
  const u = stack.image_updates;
  if (!u || u.available === 0) return null;
  return (
    <span
      class="badge badge-update"
      data-testid="update-badge"
      data-available={u.available}
      title={`${stack.auto_update ? 'auto_update deploys it' : 'deploy to update'}; checked ${u.checked_at ?? ''}`}
    >
      update available{u.available > 1 ? ` (${u.available})` : ''}
    </span>
  );
}

/** When the stack's images were last compared with their registries. */
export function UpdateCheckedAt({ stack }: { stack: Pick<Stack, 'image_updates'> }) {
  return stack.image_updates?.checked_at ? (
    <Time iso={stack.image_updates.checked_at} />
  ) : (
    <span>never</span>
  );
}
