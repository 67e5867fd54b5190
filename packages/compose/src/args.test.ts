import { describe, expect, it } from 'vitest';
import { composeArgs, composeProjectArgs } from './args';
import { parsePsJson } from './ps';

describe('composeArgs', () => {
  it('always names the project and every file, in order', () => {
    expect(
      composeArgs(
        { project: 'simpledeploy-web', files: ['/d/compose.yaml', '/d/extra.yaml'] },
        'up',
        ['-d'],
      ),
    ).toEqual([
      'compose',
      '-p',
      'simpledeploy-web',
      '-f',
      '/d/compose.yaml',
      '-f',
      '/d/extra.yaml',
      'up',
      '-d',
    ]);
  });

  it('passes an explicit env file before the subcommand', () => {
    expect(
      composeArgs({ project: 'p', files: ['/a.yaml'], envFiles: ['/.env'] }, 'config', ['-q']),
    ).toEqual(['compose', '-p', 'p', '-f', '/a.yaml', '--env-file', '/.env', 'config', '-q']);
  });

  it('refuses to build a command without a compose file', () => {
    expect(() => composeArgs({ project: 'p', files: [] }, 'up')).toThrow();
  });

  it('builds project-only commands', () => {
    expect(composeProjectArgs('p', 'down', ['--remove-orphans'])).toEqual([
      'compose',
      '-p',
      'p',
      'down',
      '--remove-orphans',
    ]);
  });
});

describe('parsePsJson', () => {
  it('reads one object per line', () => {
    const out =
      '{"Name":"p-web-1","Service":"web","Image":"r/web:v1","State":"running","Health":"healthy"}\n{"Name":"p-db-1","Service":"db","Image":"r/db","State":"exited","Health":""}\n';
    expect(parsePsJson(out)).toEqual([
      { service: 'db', container: 'p-db-1', image: 'r/db', state: 'exited', health: '' },
      {
        service: 'web',
        container: 'p-web-1',
        image: 'r/web:v1',
        state: 'running',
        health: 'healthy',
      },
    ]);
  });

  it('reads the older array form and empty output', () => {
    expect(parsePsJson('[{"Name":"a","Service":"s","Image":"i","State":"running"}]')).toHaveLength(
      1,
    );
    expect(parsePsJson('')).toEqual([]);
  });
});
