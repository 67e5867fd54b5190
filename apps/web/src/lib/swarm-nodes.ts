/** One node of a Swarm stack as its services table shows it. */
export interface SwarmNodeSummary {
  node: string;
  tasks: number;
  running: number;
  services: string[];
}

/** Which nodes a Swarm stack's tasks are on, how many run there and of which services. */
export function swarmNodes(
  rows: readonly { service: string; state: string; node?: string | undefined }[],
): SwarmNodeSummary[] {
  const byNode = new Map<string, { tasks: number; running: number; services: Set<string> }>();
  for (const r of rows) {
    const key = r.node || '—';
    const n = byNode.get(key) ?? { tasks: 0, running: 0, services: new Set<string>() };
    n.tasks++;
    if (r.state === 'running') n.running++;
    n.services.add(r.service);
    byNode.set(key, n);
  }
  return (
    [...byNode.entries()]
      // Tasks not placed on a node yet come last.
      .sort(([a], [b]) => Number(a === '—') - Number(b === '—') || a.localeCompare(b))
      .map(([node, n]) => ({ node, ...n, services: [...n.services].sort() }))
  );
}
