import type { Clock, LogLine, Trigger } from '@simpledeploy/core';
import type { CommandView, DeploymentView } from '@simpledeploy/deployer';
import type { Context } from 'hono';
import { type SSEStreamingApi, streamSSE } from 'hono/streaming';
import type { AppEnv } from '../deps';
import type { DomainDeps } from '../domain';
import { followLog } from '../log-stream';

/**
 * One entry of Supervisor's stack log: a run (a deployment or a control command) with
 * its output. Every value is a string, as Supervisor's clients print them.
 */
export interface LogEntry {
  run_at: string;
  action: string;
  status: string;
  message: string;
}

/** Supervisor names its runs after its jobs: a deploy, an update (webhook or poll), a command. */
export const actionOf = (trigger: Trigger): string =>
  trigger === 'webhook' || trigger === 'poll'
    ? 'update'
    : trigger === 'rollback'
      ? 'rollback'
      : 'deploy';

const text = (lines: LogLine[]) => lines.map((l) => l.text).join('\n');
const isDone = (status: string) => status !== 'queued' && status !== 'running';

function deploymentEntry(d: DeploymentView, lines: LogLine[]): LogEntry {
  const out = text(lines);
  return {
    run_at: d.finished_at ?? d.started_at ?? d.queued_at,
    action: actionOf(d.trigger),
    status: d.status,
    message: d.error ? (out ? `${out}\n${d.error}` : d.error) : out,
  };
}

const eventEntry = (e: CommandView): LogEntry => ({
  run_at: e.created_at,
  action: typeof e.detail.command === 'string' ? e.detail.command : e.kind,
  status: e.status,
  message: e.output ?? '',
});

/**
 * The stack's last `count` runs, oldest first: its deployments (the 50 latest) and its
 * control commands, each with its output (redacted, as every deployment log).
 */
export function lastEntries({ deployer, lifecycle }: DomainDeps, stack: string, count: number) {
  const deploymentLog = (d: DeploymentView) => deploymentEntry(d, deployer.storedLog(d.id).lines);
  // Both lists come newest first: reversed, the stable sort keeps runs of the same instant in order.
  const runs = [
    ...deployer
      .listDeployments(stack)
      .reverse()
      .map((d) => ({ at: d.started_at ?? d.queued_at, entry: () => deploymentLog(d) })),
    ...lifecycle
      .history(stack)
      .reverse()
      .filter((e) => e.kind === 'control')
      .map((e) => ({ at: e.created_at, entry: () => eventEntry(e) })),
  ].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  return count > 0 ? runs.slice(-count).map((r) => r.entry()) : [];
}

/** Entries a reader that stopped reading may have pending before it is dropped. */
const MAX_QUEUED = 50_000;
/** A comment this often keeps proxies from closing a quiet stream and finds readers that left. */
const HEARTBEAT_MS = 25_000;
/** Lines that arrive within this long of each other go out as one entry. */
const BATCH_MS = 100;

type Item =
  | { kind: 'line'; deployment: DeploymentView; line: LogLine }
  | { kind: 'end'; deployment: DeploymentView }
  | { kind: 'entry'; entry: LogEntry }
  | { kind: 'close'; message: string };

/**
 * `GET /stacks/{uuid}/log?follow=true`, Supervisor's live log as Server-Sent Events: a
 * `message` event per entry (`data:` one JSON object, the last line of the event, as
 * Supervisor's client reads it) for the stack's running deployment from its first line
 * and every later deployment and control command, until the reader leaves; a `close`
 * event `{created_at, message}` when the stack is deleted. A running deployment's new
 * lines go out as entries with status `running`, then one entry with how it ended.
 */
export function followStackLog(
  c: Context<AppEnv>,
  domain: DomainDeps,
  stackParam: string,
  clock: Pick<Clock, 'now'>,
) {
  const { deployer, lifecycle } = domain;
  // Resolved before the stream opens, so an unknown stack is a 404, not an empty stream.
  const stack = deployer.requireStack(stackParam);
  const now = () => clock.now().toISOString();
  return streamSSE(c, async (stream) => {
    const queue: Item[] = [];
    let open = true;
    let wake = () => {};
    const push = (item: Item) => {
      if (!open) return;
      if (queue.length >= MAX_QUEUED) {
        queue.length = 0;
        queue.push({ kind: 'close', message: 'the reader fell too far behind; reconnect' });
      } else queue.push(item);
      wake();
    };

    const followed = new Set<string>();
    const unsubscribes = new Set<() => void>();
    const follow = (d: DeploymentView) => {
      if (followed.has(d.id)) return;
      followed.add(d.id);
      let done = false;
      const stop = followLog(deployer, d.id, (e) => {
        if (e.type === 'line') push({ kind: 'line', deployment: d, line: e.line });
        else {
          done = true;
          push({ kind: 'end', deployment: d });
        }
      });
      if (!done) unsubscribes.add(stop);
    };
    const seenEvents = new Set<string>();
    const newCommands = () => {
      for (const e of lifecycle.history(stack.id).reverse()) {
        if (e.kind !== 'control' || !isDone(e.status) || seenEvents.has(e.id)) continue;
        seenEvents.add(e.id);
        push({ kind: 'entry', entry: eventEntry(e) });
      }
    };

    for (const e of lifecycle.history(stack.id)) if (isDone(e.status)) seenEvents.add(e.id);
    const running = deployer.listDeployments(stack.id).find((d) => d.status === 'running');
    if (running) follow(running);
    const off = deployer.onChange((e) => {
      if (e.type === 'deployment') {
        // Followed once it runs: its log channel is open by then, and one runs at a time.
        if (e.deployment.stack_id === stack.id && e.deployment.status === 'running')
          follow(e.deployment);
        return;
      }
      if (e.stackId !== stack.id) return;
      try {
        newCommands();
      } catch {
        push({ kind: 'close', message: `stack ${stack.name} was deleted` });
      }
    });
    // Real timers: they pace the connection, they are not the domain's time.
    const heartbeat = setInterval(() => {
      void stream.write(': keep-alive\n\n').catch(() => {});
    }, HEARTBEAT_MS);
    const cleanup = () => {
      open = false;
      off();
      clearInterval(heartbeat);
      for (const stop of unsubscribes) stop();
      wake();
    };
    stream.onAbort(cleanup);

    try {
      while (open) {
        if (queue.length === 0) {
          await new Promise<void>((r) => {
            wake = r;
          });
          continue;
        }
        const closing = await writeBatch(stream, queue.splice(0), deployer, now);
        if (closing) break;
        // Entries stay apart, so a client reading one event per chunk is not handed two.
        await new Promise((r) => setTimeout(r, BATCH_MS));
      }
    } finally {
      cleanup();
    }
  });
}

/** Writes queued items, lines of one deployment in a row as one entry; true after a close. */
async function writeBatch(
  stream: SSEStreamingApi,
  items: Item[],
  deployer: DomainDeps['deployer'],
  now: () => string,
): Promise<boolean> {
  const send = (data: unknown, event = 'message') =>
    stream.writeSSE({ event, data: JSON.stringify(data) });
  let lines: LogLine[] = [];
  let of: DeploymentView | undefined;
  const flush = async () => {
    if (of && lines.length) {
      await send({
        run_at: lines[lines.length - 1]?.ts ?? now(),
        action: actionOf(of.trigger),
        status: 'running',
        message: text(lines),
      } satisfies LogEntry);
    }
    lines = [];
  };
  for (const item of items) {
    if (item.kind === 'line' && item.deployment.id === of?.id) {
      lines.push(item.line);
      continue;
    }
    await flush();
    of = undefined;
    if (item.kind === 'line') {
      of = item.deployment;
      lines = [item.line];
    } else if (item.kind === 'end') {
      const d = deployer.getDeployment(item.deployment.id);
      await send({
        run_at: d.finished_at ?? now(),
        action: actionOf(d.trigger),
        status: d.status,
        message: `deployment ${d.id} ${d.status.replace('_', ' ')}${d.error ? `: ${d.error}` : ''}`,
      } satisfies LogEntry);
    } else if (item.kind === 'entry') {
      await send(item.entry);
    } else {
      await send({ created_at: now(), message: item.message }, 'close');
      return true;
    }
  }
  await flush();
  return false;
}
