import { createHash } from 'node:crypto';
import type { Clock, GitCredentials } from '@simpledeploy/core';

interface Answer {
  at: number;
  maxAgeMs: number;
  commit: Promise<string>;
}

/** Answers kept at most, before old ones are swept. */
const SWEEP_AT = 1000;

/**
 * One ref listing for the stacks that track the same repository, branch and
 * credentials: a stack asks once a sibling's answer is older than maxAgeMs (half its
 * interval), and waits for a sibling's listing already in flight instead of sending its
 * own. A failed listing is not shared: each stack records its own failure and backs off.
 * The key is a hash, so the token is not kept in it.
 */
export function createSharedPolls(clock: Clock) {
  const answers = new Map<string, Answer>();

  function sweep(now: number) {
    for (const [key, a] of answers) if (now - a.at > a.maxAgeMs) answers.delete(key);
  }

  return {
    keyOf(url: string, branch: string | undefined, creds: GitCredentials): string {
      return createHash('sha256')
        .update([url, branch ?? '', creds.username ?? '', creds.token ?? ''].join('\0'))
        .digest('hex');
    },

    resolve(key: string, maxAgeMs: number, list: () => Promise<string>): Promise<string> {
      if (maxAgeMs <= 0) return list();
      const now = clock.now().getTime();
      const known = answers.get(key);
      if (known && now - known.at <= maxAgeMs) return known.commit;
      if (answers.size >= SWEEP_AT) sweep(now);
      const commit = list();
      const answer: Answer = { at: now, maxAgeMs, commit };
      answers.set(key, answer);
      commit.catch(() => {
        if (answers.get(key) === answer) answers.delete(key);
      });
      return commit;
    },
  };
}

export type SharedPolls = ReturnType<typeof createSharedPolls>;
