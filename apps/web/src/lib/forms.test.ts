import { describe, expect, it } from 'vitest';
import { stackFixture } from './fixtures';
import { formFromStack, nameProblem, parseList, parseVariables, stackInput } from './forms';

describe('field parsing', () => {
  it('parses KEY=value lines, skipping comments and reporting bad lines', () => {
    expect(parseVariables('A=1\n# note\n\nB = x=y\nbad line')).toEqual({
      value: { A: '1', B: ' x=y' },
      errors: ['Line 5: expected KEY=value.'],
    });
  });

  it('parses lists from commas or lines', () => {
    expect(parseList('web, db\nworker\n')).toEqual(['web', 'db', 'worker']);
  });

  it('checks stack names against the contract pattern', () => {
    expect(nameProblem('my-app_1')).toBeNull();
    expect(nameProblem('My App')).toMatch(/lowercase/);
    expect(nameProblem('')).toMatch(/required/);
  });
});

describe('stackInput', () => {
  it('sends only filled fields for a new inline stack', () => {
    const form = { ...formFromStack(null), name: 'web', compose: 'services: {}\n' };
    const { input, errors } = stackInput(form, 'compose', null);
    expect(errors).toEqual({});
    expect(input).toEqual({
      name: 'web',
      compose: 'services: {}\n',
      auto_deploy: false,
      reconcile_interval_seconds: 0,
      auto_rollback: true,
      auto_update: false,
      update_check_interval_seconds: 0,
    });
  });

  it('requires an http(s) url for a git stack', () => {
    const form = { ...formFromStack(null), name: 'web', repo_url: 'git@host:x.git' };
    expect(stackInput(form, 'git', null).errors.repo_url).toBeDefined();
  });

  it('sends only changed fields and new secrets when editing', () => {
    const original = stackFixture({
      repo_url: 'https://git.example/x.git',
      repo_branch: 'main',
      compose_variables: { TAG: '1' },
      auto_deploy: false,
      reconcile_interval_seconds: 60,
      auto_rollback: true,
      has_repo_token: true,
    });
    const form = {
      ...formFromStack(original),
      repo_branch: 'release',
      compose_variables: 'TAG=2',
      webhook_secret: 'shh',
      clear_repo_token: true,
    };
    expect(stackInput(form, 'git', original).input).toEqual({
      repo_branch: 'release',
      compose_variables: { TAG: '2' },
      webhook_secret: 'shh',
      repo_token: null,
    });
  });

  it('sends a deploy timeout only when one is given, and checks its range', () => {
    const form = { ...formFromStack(null), name: 'web', compose: 'services: {}\n' };
    expect(stackInput(form, 'compose', null).input).not.toHaveProperty('deploy_timeout_seconds');
    const set = stackInput({ ...form, deploy_timeout_seconds: '120' }, 'compose', null);
    expect(set.input.deploy_timeout_seconds).toBe(120);
    expect(
      stackInput({ ...form, deploy_timeout_seconds: '5' }, 'compose', null).errors,
    ).toHaveProperty('deploy_timeout_seconds');
    const original = stackFixture({ compose: 'x: 1\n', deploy_timeout_seconds: 900 });
    const edited = { ...formFromStack(original), deploy_timeout_seconds: '60' };
    expect(stackInput(edited, 'compose', original).input).toEqual({ deploy_timeout_seconds: 60 });
  });

  it('sends nothing when nothing changed', () => {
    const original = stackFixture({ compose: 'x: 1\n' });
    expect(stackInput(formFromStack(original), 'compose', original).input).toEqual({});
  });
});
