import { createRedactor, createSecretBox, type Logger } from '@simpledeploy/core';
import { createTestDb, insertStack } from '@simpledeploy/db';
import { type ChangeEvent, createChangeBus, type DeploymentView } from '@simpledeploy/deployer';
import { describe, expect, it } from 'vitest';
import { createCommitStatusReporter } from './commit-status-reporter';

const SHA = 'c'.repeat(40);
const TOKEN = 'ghp_secret-token-123';

function setup(opts: { token?: string; answer?: () => Promise<Response> } = {}) {
  const { db } = createTestDb();
  const box = createSecretBox('status-test');
  const t = '2026-01-01T00:00:00.000Z';
  insertStack(db, {
    id: 'stk_1',
    name: 'shop',
    repoUrl: 'https://github.com/acme/shop.git',
    repoTokenEnc: opts.token === undefined ? box.encrypt(TOKEN) : null,
    createdAt: t,
    updatedAt: t,
  });
  const changes = createChangeBus();
  const sent: { url: string; body: string; at: number }[] = [];
  const warnings: { msg: string; fields: unknown }[] = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn: (msg, fields) => warnings.push({ msg, fields }),
    error() {},
    child: () => logger,
  };
  const reporter = createCommitStatusReporter({
    db,
    secrets: box,
    redact: createRedactor([]),
    logger,
    deployer: { onChange: (l: (e: ChangeEvent) => void) => changes.onChange(l) },
    publicUrl: 'https://deploy.example/',
    fetch: async (url, init) => {
      sent.push({ url, body: String(init.body), at: sent.length });
      return opts.answer ? opts.answer() : new Response(null, { status: 201 });
    },
  });
  const dep = (over: Partial<DeploymentView>): DeploymentView => ({
    id: 'dep_1',
    stack_id: 'stk_1',
    status: 'running',
    trigger: 'manual',
    ref: null,
    git_commit: null,
    version_id: null,
    error: null,
    queued_at: t,
    started_at: t,
    finished_at: null,
    duration_ms: null,
    ...over,
  });
  const emit = (d: DeploymentView) => changes.emit({ type: 'deployment', deployment: d });
  return { reporter, sent, warnings, dep, emit };
}

describe('commit status reporter', () => {
  it('sends pending once the commit is known, once, then the end state, in order', async () => {
    const t = setup();
    t.reporter.start();
    t.emit(t.dep({})); // running, commit not resolved yet: nothing to put a status on
    t.emit(t.dep({ git_commit: SHA }));
    t.emit(t.dep({ git_commit: SHA })); // the same state again
    t.emit(t.dep({ git_commit: SHA, status: 'succeeded' }));
    await t.reporter.stop();
    expect(t.sent.map((s) => JSON.parse(s.body).state)).toEqual(['pending', 'success']);
    expect(t.sent[0]?.url).toBe(`https://api.github.com/repos/acme/shop/statuses/${SHA}`);
    expect(JSON.parse(t.sent[1]?.body ?? '').target_url).toBe(
      'https://deploy.example/#/deployments/dep_1',
    );
  });

  it('sends nothing for a stack without a token', async () => {
    const t = setup({ token: '' });
    t.reporter.start();
    t.emit(t.dep({ git_commit: SHA, status: 'succeeded' }));
    await t.reporter.stop();
    expect(t.sent).toEqual([]);
  });

  it('logs a refusal without the token and goes on', async () => {
    const t = setup({
      answer: async () => new Response(`bad credentials ${TOKEN}`, { status: 401 }),
    });
    t.reporter.start();
    t.emit(t.dep({ git_commit: SHA }));
    t.emit(t.dep({ git_commit: SHA, status: 'failed', error: 'health check failed' }));
    await t.reporter.stop();
    expect(t.sent).toHaveLength(2);
    expect(JSON.parse(t.sent[1]?.body ?? '')).toMatchObject({
      state: 'failure',
      description: 'Deployment of shop failed: health check failed',
    });
    expect(t.warnings.map((w) => w.msg)).toEqual([
      'the git host refused a commit status',
      'the git host refused a commit status',
    ]);
    expect(JSON.stringify(t.warnings)).not.toContain(TOKEN);
  });
});
