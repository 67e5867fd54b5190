// Applies push-channel messages to the client's copies of stacks and deployments.
// Stack messages are the server's truth; deployment messages fill the gap until one arrives.
import { type Deployment, isTerminal, type LiveMessage, type StackSummary } from '../api';

function sameStack(s: StackSummary, idOrName: string): boolean {
  return s.id === idOrName || s.name === idOrName;
}

/** A stack's status and last deployment as a deployment state change implies them. */
export function applyDeploymentToStack<S extends StackSummary>(stack: S, d: Deployment): S {
  if (d.status === 'running') return { ...stack, status: 'deploying' };
  if (d.status === 'queued') {
    return stack.status === 'deploying' ? stack : { ...stack, status: 'queued' };
  }
  if (isTerminal(d.status)) {
    return {
      ...stack,
      status: 'idle',
      last_deployment: { id: d.id, status: d.status, finished_at: d.finished_at ?? null },
      deployed_commit:
        d.status === 'succeeded' ? (d.git_commit ?? stack.deployed_commit) : stack.deployed_commit,
      current_version_id:
        d.status === 'succeeded'
          ? (d.version_id ?? stack.current_version_id)
          : stack.current_version_id,
    };
  }
  return stack;
}

/** The stack list (full or summary views) after one message; new stacks are added in name order. */
export function applyToStacks<S extends StackSummary>(stacks: S[], msg: LiveMessage): S[] {
  switch (msg.type) {
    case 'stack': {
      const i = stacks.findIndex((s) => s.id === msg.stack.id);
      // A stack message carries the whole stack, which has every field of a summary.
      const incoming = msg.stack as StackSummary as S;
      if (i === -1) return [...stacks, incoming].sort((a, b) => a.name.localeCompare(b.name));
      const next = stacks.slice();
      next[i] = { ...stacks[i], ...incoming } as S;
      return next;
    }
    case 'stack_deleted':
      return stacks.filter((s) => !sameStack(s, msg.stack_id));
    case 'deployment': {
      const i = stacks.findIndex((s) => s.id === msg.deployment.stack_id);
      if (i === -1) return stacks;
      const next = stacks.slice();
      next[i] = applyDeploymentToStack(stacks[i]!, msg.deployment);
      return next;
    }
    default:
      return stacks;
  }
}

/** A stack's deployment history after a deployment message: upserted, newest first. */
export function upsertDeployment(list: Deployment[], d: Deployment, max = 50): Deployment[] {
  const i = list.findIndex((x) => x.id === d.id);
  if (i !== -1) {
    const next = list.slice();
    next[i] = { ...list[i], ...d };
    return next;
  }
  const next = [d, ...list];
  next.sort((a, b) => (b.queued_at ?? '').localeCompare(a.queued_at ?? ''));
  return next.slice(0, max);
}

/** Parses a push message, rejecting anything that isn't one of the three types. */
export function parseLiveMessage(data: unknown): LiveMessage | null {
  let msg: unknown = data;
  if (typeof data === 'string') {
    try {
      msg = JSON.parse(data);
    } catch {
      return null;
    }
  }
  if (!msg || typeof msg !== 'object') return null;
  const m = msg as Record<string, unknown>;
  if (m.type === 'stack' && m.stack && typeof m.stack === 'object') return m as LiveMessage;
  if (m.type === 'deployment' && m.deployment && typeof m.deployment === 'object') {
    return m as LiveMessage;
  }
  if (m.type === 'stack_deleted' && typeof m.stack_id === 'string') return m as LiveMessage;
  return null;
}
