import { describe, expect, it } from 'vitest';
import { deploymentFixture as dep, stackFixture as stack } from './fixtures';
import { applyToStacks, parseLiveMessage, upsertDeployment } from './live-state';

describe('applyToStacks', () => {
  it('replaces a known stack and adds a new one in name order', () => {
    const list = [stack({ id: 'a', name: 'b' })];
    const updated = applyToStacks(list, {
      type: 'stack',
      stack: stack({ id: 'a', name: 'b', status: 'queued' }),
    });
    expect(updated[0]?.status).toBe('queued');
    const added = applyToStacks(list, { type: 'stack', stack: stack({ id: 'z', name: 'a' }) });
    expect(added.map((s) => s.name)).toEqual(['a', 'b']);
  });

  it('removes a deleted stack by id', () => {
    expect(applyToStacks([stack()], { type: 'stack_deleted', stack_id: 's1' })).toEqual([]);
  });

  it('moves a stack through queued, deploying and idle from deployment messages', () => {
    let list = [stack()];
    list = applyToStacks(list, { type: 'deployment', deployment: dep() });
    expect(list[0]?.status).toBe('queued');
    list = applyToStacks(list, { type: 'deployment', deployment: dep({ status: 'running' }) });
    expect(list[0]?.status).toBe('deploying');
    list = applyToStacks(list, {
      type: 'deployment',
      deployment: dep({
        status: 'succeeded',
        finished_at: '2026-01-01T00:01:00Z',
        git_commit: 'abc',
        version_id: 'v2',
      }),
    });
    expect(list[0]).toMatchObject({
      status: 'idle',
      last_deployment: { id: 'd1', status: 'succeeded', finished_at: '2026-01-01T00:01:00Z' },
      deployed_commit: 'abc',
      current_version_id: 'v2',
    });
  });

  it('keeps the current version when a deployment fails', () => {
    const list = applyToStacks([stack({ current_version_id: 'v1', status: 'deploying' })], {
      type: 'deployment',
      deployment: dep({ status: 'rolled_back', version_id: 'v2' }),
    });
    expect(list[0]).toMatchObject({ current_version_id: 'v1', status: 'idle' });
  });

  it('ignores deployments of unknown stacks', () => {
    const list = [stack()];
    expect(applyToStacks(list, { type: 'deployment', deployment: dep({ stack_id: 'x' }) })).toBe(
      list,
    );
  });
});

describe('upsertDeployment', () => {
  it('updates in place or inserts newest first', () => {
    const list = [dep({ id: 'old', queued_at: '2026-01-01T00:00:00Z' })];
    const added = upsertDeployment(list, dep({ id: 'new', queued_at: '2026-01-02T00:00:00Z' }));
    expect(added.map((d) => d.id)).toEqual(['new', 'old']);
    const updated = upsertDeployment(added, dep({ id: 'old', status: 'failed' }));
    expect(updated[1]?.status).toBe('failed');
  });
});

describe('parseLiveMessage', () => {
  it('accepts the three message types and rejects anything else', () => {
    expect(parseLiveMessage('{"type":"stack_deleted","stack_id":"a"}')).toEqual({
      type: 'stack_deleted',
      stack_id: 'a',
    });
    expect(parseLiveMessage({ type: 'stack', stack: { id: 'a' } })?.type).toBe('stack');
    expect(parseLiveMessage('{"type":"hello"}')).toBeNull();
    expect(parseLiveMessage('not json')).toBeNull();
  });
});
