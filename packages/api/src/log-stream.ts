import type { DeploymentStatus, LogLine } from '@simpledeploy/core';
import type { Deployer } from '@simpledeploy/deployer';

export type LogEvent = { type: 'line'; line: LogLine } | { type: 'end'; status: DeploymentStatus };

/**
 * One view of a deployment's log for every transport: the live bus when it still holds
 * the deployment, else the stored log. `onEvent` gets the replay, then live lines, then
 * the end; it is called synchronously, so transports queue on their side.
 */
export function followLog(
  deployer: Deployer,
  id: string,
  onEvent: (e: LogEvent) => void,
): () => void {
  const sub = deployer.logs.subscribe(id, (e) => onEvent(e));
  if (sub) {
    for (const line of sub.replay) onEvent({ type: 'line', line });
    if (sub.ended !== undefined) onEvent({ type: 'end', status: sub.ended });
    return sub.unsubscribe;
  }
  const stored = deployer.storedLog(id);
  for (const line of stored.lines) onEvent({ type: 'line', line });
  if (stored.status !== 'queued' && stored.status !== 'running')
    onEvent({ type: 'end', status: stored.status });
  return () => {};
}

export const wireLine = (line: LogLine) => ({ type: 'line' as const, ...line });
