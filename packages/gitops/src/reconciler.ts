import type { DriftItem } from '@simpledeploy/compose';
import {
  type Clock,
  type GitClient,
  type GitCredentials,
  isAppError,
  type Logger,
  type Metrics,
  type Notify,
  noopMetrics,
  type SecretBox,
  type TimerHandle,
} from '@simpledeploy/core';
import {
  type Db,
  findStack,
  findStackPollState,
  listDeployments,
  listStackSchedules,
  recordPollOutcome,
  recordPollTimes,
  type StackPollState,
  type StackRow,
  type StackSchedule,
} from '@simpledeploy/db';
import type { Deployer } from '@simpledeploy/deployer';
import { createBackgroundWork } from './background-work';
import { createDriftReports } from './drift-reports';
import { createSharedPolls } from './shared-polls';

export interface ReconcilerDeps {
  db: Db;
  deployer: Deployer;
  /** Without it, git stacks are only checked for container drift. */
  git?: GitClient | undefined;
  drift: { containerDrift(stack: StackRow): Promise<DriftItem[] | undefined> };
  secrets: SecretBox;
  clock: Clock;
  logger: Logger;
  /** Random number in [0, 1), for jitter; injectable for tests. */
  random?: () => number;
  /** Drift checks (which ask the engine) at the same time, at most. Default 4. */
  maxConcurrent?: number;
  /**
   * Ref listings in flight at the same time, at most. Default 16: a round's polls go out
   * together, so their answers wake the server a few times rather than once each.
   */
  maxConcurrentPolls?: number;
  /** How often the schedule is re-read from the database besides change events. Default 60 s. */
  resyncMs?: number;
  /** Where `poll.failing` goes once a stack's polls have failed POLL_FAILING_AFTER times in a row. */
  notify?: Notify | undefined;
  /** Counts failed polls and detected drift. */
  metrics?: Metrics | undefined;
}

/** Failed polls in a row before `poll.failing` is published (once per run of failures): one is noise. */
export const POLL_FAILING_AFTER = 3;
/** A failing poll waits interval × 2^failures, at most this many intervals. */
export const MAX_BACKOFF_INTERVALS = 10;
/** A drift deploy that did not cure the drift is retried after interval × 2^attempts, at most this. */
export const MAX_DRIFT_BACKOFF_MS = 3600_000;
/** Spread of each delay around the interval (±10 %), so stacks do not poll in step. */
const JITTER = 0.1;
/**
 * Polls fire on a grid of this many ms (a tenth of the interval when that is shorter):
 * stacks due within the same second are polled in one wake-up of the process. Polled one
 * timer each, 1000 stacks every 60 s woke the server 17 times a second, each wake-up
 * starting from cold caches; polled in rounds, that cost is shared by the round.
 */
export const POLL_GRID_MS = 1000;
/** The times of unchanged polls are written at most this often (ms); every other outcome at once. */
export const POLL_TIMES_EVERY_MS = 10_000;

/** The delay that ends on the next point of the grid at or after now + delayMs. */
export function onGrid(nowMs: number, delayMs: number, intervalMs: number): number {
  const grid = Math.max(1, Math.min(POLL_GRID_MS, Math.floor(intervalMs / 10)));
  return Math.ceil((nowMs + delayMs) / grid) * grid - nowMs;
}

interface Schedule {
  intervalMs: number;
  timer: TimerHandle | undefined;
  nextAt: number;
  running: boolean;
}

interface DriftGuard {
  key: string;
  attempts: number;
  nextAt: number;
}

/** A stack's git credentials and sharing key, as last derived from these columns. */
interface PollTarget {
  url: string;
  branch: string | null;
  username: string | null;
  tokenEnc: string | null;
  creds: GitCredentials;
  key: string;
}

/** Deployment outcomes after which the same commit is not auto-deployed again. */
const TRIED = new Set(['succeeded', 'failed', 'rolled_back', 'canceled']);

/**
 * Keeps stacks equal to their branch: for each stack with reconcile_interval_seconds > 0,
 * on its own jittered schedule, asks the remote for the branch's commit (no clone),
 * records it on the stack, deploys a new commit with auto_deploy (trigger `poll`), then
 * compares the containers with the current version and, with auto_deploy, deploys to
 * repair drift (trigger `drift`) with a backoff so a repair that fails is not looped.
 * Every error is caught per stack and recorded: polling never stops silently.
 */
export function createReconciler(deps: ReconcilerDeps) {
  const { db, deployer, clock, logger } = deps;
  const random = deps.random ?? Math.random;
  const maxConcurrent = deps.maxConcurrent ?? 4;
  const schedules = new Map<string, Schedule>();
  const guards = new Map<string, DriftGuard>();
  const shared = createSharedPolls(clock);
  const targets = new Map<string, PollTarget>();
  const metrics = deps.metrics ?? noopMetrics;
  // A lasting drift is reported once.
  const driftReports = createDriftReports({ metrics, notify: deps.notify });
  const work = createBackgroundWork(maxConcurrent);
  const polls = createBackgroundWork(deps.maxConcurrentPolls ?? 16);
  // Times of unchanged polls not yet written: written together, at most every
  // POLL_TIMES_EVERY_MS (a commit per poll was a twentieth of a poll's CPU, and each
  // write moves the stack list's version, so a list asked for while 1000 stacks poll
  // would be built afresh every time).
  const pollTimes = new Map<string, string>();
  let pollTimesAt = Number.NEGATIVE_INFINITY;
  let pollTimesTimer: TimerHandle | undefined;
  const flushPollTimes = () => {
    if (pollTimesTimer) clock.clearTimeout(pollTimesTimer);
    pollTimesTimer = undefined;
    if (pollTimes.size === 0) return;
    pollTimesAt = nowMs();
    try {
      recordPollTimes(db, pollTimes);
    } catch (error) {
      logger.warn('recording poll times failed', { stacks: pollTimes.size, error });
    }
    pollTimes.clear();
  };
  /** A round of polls ended: its times are written now, or when the last write is old enough. */
  const roundEnded = () => {
    if (polls.pending() > 0 || pollTimes.size === 0 || pollTimesTimer) return;
    const wait = pollTimesAt + POLL_TIMES_EVERY_MS - nowMs();
    if (wait <= 0) flushPollTimes();
    else pollTimesTimer = clock.setTimeout(flushPollTimes, wait);
  };
  let started = false;
  let unsubscribe: (() => void) | undefined;
  let resyncTimer: TimerHandle | undefined;

  const nowMs = () => clock.now().getTime();
  const jittered = (ms: number) => Math.round(ms * (1 - JITTER + 2 * JITTER * random()));

  function arm(stackId: string, s: Schedule, delayMs: number) {
    if (s.timer) clock.clearTimeout(s.timer);
    const now = nowMs();
    const delay = onGrid(now, delayMs, s.intervalMs);
    s.nextAt = now + delay;
    s.timer = clock.setTimeout(() => {
      s.timer = undefined;
      work.track(tick(stackId, s));
    }, delay);
  }

  /** Schedules one stack as its row says; a new schedule starts at a random point of its interval. */
  function schedule(row: Pick<StackSchedule, 'id' | 'reconcileIntervalSeconds'>) {
    const intervalMs = row.reconcileIntervalSeconds * 1000;
    const s = schedules.get(row.id);
    if (s && s.intervalMs === intervalMs) return;
    const next: Schedule = { intervalMs, timer: undefined, nextAt: 0, running: false };
    if (s?.timer) clock.clearTimeout(s.timer);
    schedules.set(row.id, next);
    arm(row.id, next, Math.round(random() * intervalMs));
  }

  function unschedule(id: string) {
    const s = schedules.get(id);
    if (s?.timer) clock.clearTimeout(s.timer);
    schedules.delete(id);
    targets.delete(id);
    guards.delete(id);
    driftReports.forget(id);
  }

  /** Re-reads which stacks reconcile and how often. */
  function sync() {
    if (!started) return;
    const seen = new Set<string>();
    // Ids and intervals only: whole rows of every stack each minute were the largest
    // garbage of a server polling 1000 stacks (about 6 MB a minute).
    for (const row of listStackSchedules(db)) {
      if (row.reconcileIntervalSeconds <= 0) continue;
      seen.add(row.id);
      schedule(row);
    }
    for (const id of [...schedules.keys()]) if (!seen.has(id)) unschedule(id);
  }

  /**
   * One stack changed: only its row is read again. Every poll that finds a new commit
   * emits a change, and re-reading all stacks for each made the first round over a
   * thousand stacks a million row reads.
   */
  function syncOne(stackId: string) {
    if (!started) return;
    const row = findStack(db, stackId);
    if (row && row.reconcileIntervalSeconds > 0) schedule(row);
    else unschedule(stackId);
  }

  async function tick(stackId: string, s: Schedule): Promise<void> {
    let failures = 0;
    s.running = true;
    try {
      const polled = await polls.slot(async () => {
        const stack = findStackPollState(db, stackId);
        if (!stack || stack.reconcileIntervalSeconds <= 0) return undefined;
        return { stack, result: await poll(stack, s.intervalMs / 2) };
      });
      roundEnded();
      if (polled) {
        failures = polled.result.failures;
        if (wantsDriftCheck(polled.stack, polled.result)) {
          await work.slot(() => driftCheckOf(stackId));
        }
      }
    } catch (error) {
      // poll and checkDrift record their own failures; this is the net under them.
      logger.error('reconcile failed unexpectedly', { stackId, error });
    } finally {
      s.running = false;
      roundEnded();
      // Only the current schedule re-arms: a stack updated or deleted meanwhile has a new one or none.
      if (started && schedules.get(stackId) === s) {
        const backoff = Math.min(2 ** failures, MAX_BACKOFF_INTERVALS);
        arm(stackId, s, jittered(s.intervalMs * backoff));
      }
    }
  }

  /**
   * The repository token decrypted and the sharing key hashed once per stack, again only
   * when one of the columns they come from changes: decrypting every secret of the row
   * and hashing the key on every poll was a tenth of an unchanged poll's CPU.
   */
  function targetOf(stack: StackPollState, url: string): PollTarget {
    const known = targets.get(stack.id);
    if (
      known &&
      known.url === url &&
      known.branch === stack.repoBranch &&
      known.username === stack.repoUsername &&
      known.tokenEnc === stack.repoTokenEnc
    ) {
      return known;
    }
    const creds: GitCredentials = {
      username: stack.repoUsername ?? undefined,
      token: stack.repoTokenEnc ? deps.secrets.decrypt(stack.repoTokenEnc) : undefined,
    };
    const target: PollTarget = {
      url,
      branch: stack.repoBranch,
      username: stack.repoUsername,
      tokenEnc: stack.repoTokenEnc,
      creds,
      key: shared.keyOf(url, stack.repoBranch ?? undefined, creds),
    };
    targets.set(stack.id, target);
    return target;
  }

  const message = (err: unknown) =>
    isAppError(err) ? err.message : 'asking the git server failed unexpectedly';

  /**
   * Asks the remote for the branch's commit and records it; deploys a new commit with
   * auto_deploy. Stacks on the same repository, branch and credentials share one listing
   * per half interval (`shareMs`; 0 asks afresh).
   */
  async function poll(
    stack: StackPollState,
    shareMs: number,
  ): Promise<{ deployed: boolean; failures: number }> {
    const { git } = deps;
    const url = stack.repoUrl;
    if (!url || !git) return { deployed: false, failures: 0 };
    const at = clock.now().toISOString();
    let commit: string;
    try {
      const branch = stack.repoBranch ?? undefined;
      const { creds, key } = targetOf(stack, url);
      commit = await shared.resolve(key, shareMs, async () => {
        return (await git.resolveRemote(url, branch, creds)).commit;
      });
    } catch (err) {
      const failures = stack.pollFailures + 1;
      recordPollOutcome(db, stack.id, { at, error: message(err), failures });
      logger.warn('poll failed', { stack: stack.name, failures, error: err });
      if (failures === POLL_FAILING_AFTER) {
        deps.notify?.publish({
          event: 'poll.failing',
          stack: stack.id,
          message: `Polling ${stack.name}'s repository failed ${failures} times in a row: ${message(err)}`,
          details: { failures, error: message(err), repo_url: url, branch: stack.repoBranch },
        });
      }
      metrics.pollFailed();
      if (stack.pollFailures === 0) deployer.emit({ type: 'stack', stackId: stack.id });
      return { deployed: false, failures };
    }
    const changed = commit !== stack.remoteCommit || stack.pollFailures > 0;
    // Nothing new (the usual poll): only the poll's time is written, with the round's.
    const unchanged = !changed && stack.lastPollError === null;
    if (unchanged) pollTimes.set(stack.id, at);
    else {
      recordPollOutcome(db, stack.id, { at, commit, error: null, failures: 0 });
    }
    if (changed) deployer.emit({ type: 'stack', stackId: stack.id });
    if (!stack.autoDeploy || commit === stack.deployedCommit)
      return { deployed: false, failures: 0 };
    if (deployer.isBusy(stack.id)) return { deployed: false, failures: 0 };
    // Each commit is deployed automatically once: a commit that failed is not retried in a
    // loop, and a commit rolled back by hand stays rolled back until the branch moves.
    const tried = listDeployments(db, stack.id, 50).find(
      (d) => (d.ref === commit || d.gitCommit === commit) && TRIED.has(d.status),
    );
    if (tried) {
      logger.debug('not deploying a commit already tried', {
        stack: stack.name,
        commit,
        deployment: tried.id,
        status: tried.status,
      });
      return { deployed: false, failures: 0 };
    }
    const res = deployer.deploy(stack.id, { trigger: 'poll', ref: commit });
    logger.info('new commit found, deploying', {
      stack: stack.name,
      commit,
      deployment: res.deployment.id,
    });
    return { deployed: true, failures: 0 };
  }

  /** Compares containers with the current version; with auto_deploy, deploys to repair, with backoff. */
  async function checkDrift(stack: StackRow): Promise<DriftItem[] | undefined> {
    if (deployer.isBusy(stack.id)) return undefined;
    let items: DriftItem[] | undefined;
    try {
      items = await deps.drift.containerDrift(stack);
    } catch (err) {
      logger.warn('drift check failed', { stack: stack.name, error: err });
      return undefined;
    }
    if (!items) return undefined;
    const signature = driftReports.report(stack, items);
    if (items.length === 0) {
      guards.delete(stack.id);
      return items;
    }
    logger.info('drift found', { stack: stack.name, drift: signature });
    // A redeploy does not cure a container that crashes by itself: crash loops are reported only.
    if (!stack.autoDeploy || items.every((i) => i.type === 'crash_loop')) return items;
    const key = `${stack.currentVersionId}|${signature}`;
    const guard = guards.get(stack.id);
    const now = nowMs();
    if (guard?.key === key && now < guard.nextAt) {
      logger.debug('drift repair held back: the last one did not cure it', {
        stack: stack.name,
        attempts: guard.attempts,
        retry_at: new Date(guard.nextAt).toISOString(),
      });
      return items;
    }
    const attempts = guard?.key === key ? guard.attempts + 1 : 1;
    const intervalMs = stack.reconcileIntervalSeconds * 1000;
    guards.set(stack.id, {
      key,
      attempts,
      nextAt:
        now + Math.min(intervalMs * 2 ** attempts, Math.max(MAX_DRIFT_BACKOFF_MS, intervalMs)),
    });
    // The deployed commit, not the branch head: a repair restores what was deployed.
    const res = deployer.deploy(stack.id, {
      trigger: 'drift',
      ref: stack.repoUrl ? (stack.deployedCommit ?? undefined) : undefined,
    });
    logger.info('deploying to repair drift', {
      stack: stack.name,
      drift: signature,
      attempt: attempts,
      deployment: res.deployment.id,
    });
    return items;
  }

  /**
   * A deploy just queued makes the containers' state moot until it ends; a stack that has
   * never run has no containers to compare (nor a row worth reading again).
   */
  const wantsDriftCheck = (stack: StackPollState, polled: { deployed: boolean }) =>
    !polled.deployed && stack.currentVersionId !== null;

  /** The drift check reads the whole row afresh: a deploy may have ended during the poll. */
  async function driftCheckOf(stackId: string): Promise<void> {
    const row = findStack(db, stackId);
    if (row) await checkDrift(row);
  }

  async function reconcileStack(stack: StackPollState, shareMs: number) {
    const polled = await poll(stack, shareMs);
    if (wantsDriftCheck(stack, polled)) await driftCheckOf(stack.id);
    return { pollFailures: polled.failures };
  }

  return {
    start() {
      if (started) return;
      started = true;
      unsubscribe = deployer.onChange((e) => {
        if (e.type === 'stack') syncOne(e.stackId);
      });
      const resync = () => {
        sync();
        resyncTimer = clock.setTimeout(resync, deps.resyncMs ?? 60_000);
      };
      resync();
    },

    /** Stops scheduling and waits (bounded) for reconciles in progress. */
    async stop(timeoutMs = 10_000) {
      started = false;
      unsubscribe?.();
      if (resyncTimer) clock.clearTimeout(resyncTimer);
      for (const s of schedules.values()) if (s.timer) clock.clearTimeout(s.timer);
      schedules.clear();
      targets.clear();
      guards.clear();
      await work.settle(timeoutMs);
      flushPollTimes();
    },

    /** Reconciles one stack now, outside its schedule (tests, "sync now" buttons). */
    async reconcileNow(stackIdOrName: string) {
      const stack = deployer.requireStack(stackIdOrName);
      try {
        return await reconcileStack(stack, 0);
      } finally {
        // Synced by hand: the time shows at once.
        flushPollTimes();
      }
    },

    /** When each scheduled stack reconciles next, for status output and tests. */
    scheduled(): { stackId: string; intervalMs: number; nextAt: string; running: boolean }[] {
      return [...schedules].map(([stackId, s]) => ({
        stackId,
        intervalMs: s.intervalMs,
        nextAt: new Date(s.nextAt).toISOString(),
        running: s.running,
      }));
    },
  };
}

export type Reconciler = ReturnType<typeof createReconciler>;
