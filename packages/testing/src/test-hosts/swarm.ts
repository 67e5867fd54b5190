import { CommandError, type RunResult } from '../exec.js';
import { waitFor } from '../net.js';
import type { TestHost } from './hosts.js';

/** A node of the test Swarm as `docker node ls` reports it. */
export interface SwarmNode {
  id: string;
  hostname: string;
  role: 'manager' | 'worker';
  /** The test host this node runs on. */
  host: TestHost;
}

/** Host 0 is the only manager; the other hosts joined as workers. */
export interface TestSwarm {
  manager: TestHost;
  workers: TestHost[];
  nodes: SwarmNode[];
}

function ok(result: RunResult, what: string): RunResult {
  if (result.exitCode !== 0) throw new CommandError('docker', what.split(' '), result);
  return result;
}

interface NodeLine {
  ID: string;
  Hostname: string;
  Status: string;
  ManagerStatus: string;
}

/** `docker swarm init` on hosts[0], `docker swarm join` as workers on the others; resolves when all are Ready. */
export async function formSwarm(hosts: TestHost[]): Promise<TestSwarm> {
  const [manager, ...workers] = hosts;
  if (!manager) throw new Error('formSwarm needs at least one host');
  ok(await manager.docker(['swarm', 'init', '--advertise-addr', manager.ip]), 'swarm init');
  const token = ok(
    await manager.docker(['swarm', 'join-token', '--quiet', 'worker']),
    'swarm join-token',
  ).stdout.trim();
  await Promise.all(
    workers.map(async (worker) =>
      ok(
        await worker.docker([
          'swarm',
          'join',
          '--advertise-addr',
          worker.ip,
          '--token',
          token,
          `${manager.ip}:2377`,
        ]),
        'swarm join',
      ),
    ),
  );
  let lines: NodeLine[] = [];
  await waitFor(
    `${hosts.length} ready nodes in the Swarm of ${manager.name}`,
    async () => {
      const listed = ok(await manager.docker(['node', 'ls', '--format', '{{json .}}']), 'node ls');
      lines = listed.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as NodeLine);
      return lines.length === hosts.length && lines.every((line) => line.Status === 'Ready');
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
  const nodes = lines.map((line) => {
    const host = hosts.find((candidate) => candidate.name === line.Hostname);
    if (!host) throw new Error(`Swarm node ${line.Hostname} is not one of the test hosts`);
    return {
      id: line.ID,
      hostname: line.Hostname,
      role: line.ManagerStatus ? ('manager' as const) : ('worker' as const),
      host,
    };
  });
  return { manager, workers, nodes };
}
