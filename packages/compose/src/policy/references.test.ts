import { posix } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  checkReferences,
  envFileSettings,
  isProcessSetting,
  type ReferenceReader,
  UncheckableFile,
} from './references';
import { DEFAULT_HOST_POLICY, type HostPolicy, mergeExceptions, type PolicyRule } from './rules';

const root = '/data/stacks/s1/deploy';

/** A stack directory in memory: paths relative to root; anything else is missing. */
function reader(files: Record<string, string>): ReferenceReader {
  return {
    read(abs) {
      const text = files[posix.relative(root, abs)];
      if (text === '<huge>') throw new Error('it is larger than 2 MB');
      return text;
    },
  };
}

function check(
  files: Record<string, string>,
  composeFiles = ['compose.yaml'],
  policy: HostPolicy = DEFAULT_HOST_POLICY,
) {
  return checkReferences(
    composeFiles.map((f) => posix.join(root, f)),
    { root, policy, paths: { realpath: (p) => p }, reader: reader(files) },
  );
}
const rulesOf = (...a: Parameters<typeof check>) => check(...a).violations.map((v) => v.rule);

const app = (extra: string) => `services:\n  app:\n    image: x\n${extra}`;
// Twelve levels up from the stack directory is /, whatever the data dir.
const up = '../'.repeat(12);

describe('checkReferences: paths compose reads while building its model', () => {
  const cases: [label: string, files: Record<string, string>, rules: PolicyRule[]][] = [
    ['an env_file inside', { 'compose.yaml': app('    env_file: ./app.env\n') }, []],
    [
      'an env_file in /etc',
      { 'compose.yaml': app('    env_file: /etc/environment\n') },
      ['host_path'],
    ],
    [
      'an env_file climbing out',
      { 'compose.yaml': app('    env_file: ../../x.env\n') },
      ['host_path'],
    ],
    [
      'an env_file as {path, required}',
      {
        'compose.yaml': app(
          '    env_file:\n      - path: /etc/environment\n        required: false\n',
        ),
      },
      ['host_path'],
    ],
    [
      'an env_file with a variable',
      { 'compose.yaml': app('    env_file: $HOME/x.env\n') },
      ['host_path'],
    ],
    ['an env_file in ~', { 'compose.yaml': app('    env_file: ~/x.env\n') }, ['host_path']],
    ['an env_file of ~name', { 'compose.yaml': app('    env_file: "~x.env"\n') }, ['host_path']],
    [
      'an env_file written as !!binary (base64 of /etc/hostname)',
      { 'compose.yaml': app('    env_file: !!binary L2V0Yy9ob3N0bmFtZQ==\n') },
      ['host_path'],
    ],
    [
      'a key written as !!binary (env_file)',
      { 'compose.yaml': app('    !!binary ZW52X2ZpbGU=: /etc/hostname\n') },
      ['host_path'],
    ],
    [
      'an env_file from a merge key',
      { 'compose.yaml': `x-e: &e\n  env_file: /etc/hostname\n${app('    <<: *e\n')}` },
      ['host_path'],
    ],
    [
      'an env_file in a second YAML document',
      { 'compose.yaml': `${app('')}---\nservices:\n  app:\n    env_file: /etc/hostname\n` },
      ['host_path'],
    ],
    [
      'a label_file in /etc',
      { 'compose.yaml': app('    label_file: /etc/labels\n') },
      ['host_path'],
    ],
    [
      'an include inside',
      { 'compose.yaml': `include: [other.yaml]\n${app('')}`, 'other.yaml': app('') },
      [],
    ],
    ['an include of /etc', { 'compose.yaml': `include: [/etc/c.yaml]\n${app('')}` }, ['host_path']],
    [
      'an include whose file refers to /etc',
      {
        'compose.yaml': `include: [sub/other.yaml]\n${app('')}`,
        'sub/other.yaml': app('    env_file: /etc/x\n'),
      },
      ['host_path'],
    ],
    [
      'an include with a project_directory outside',
      { 'compose.yaml': `include:\n  - path: o.yaml\n    project_directory: /etc\n${app('')}` },
      ['host_path'],
    ],
    [
      'an include with an env_file outside',
      { 'compose.yaml': `include:\n  - path: o.yaml\n    env_file: /etc/x.env\n${app('')}` },
      ['host_path'],
    ],
    [
      'an include whose project .env sets COMPOSE_EXPERIMENTAL_GIT_REMOTE',
      {
        'compose.yaml': `include: [sub/o.yaml]\n${app('')}`,
        'sub/o.yaml': app(''),
        'sub/.env': 'COMPOSE_EXPERIMENTAL_GIT_REMOTE=1\n',
      },
      ['compose_setting'],
    ],
    [
      'an extends file of /etc',
      { 'compose.yaml': app('    extends: {file: /etc/b.yaml, service: b}\n') },
      ['host_path'],
    ],
    [
      'an extends chain whose last file refers to /etc',
      {
        'compose.yaml': app('    extends: {file: a/b.yaml, service: b}\n'),
        'a/b.yaml': 'services:\n  b:\n    extends: {file: c.yaml, service: c}\n',
        'a/c.yaml': 'services:\n  c:\n    env_file: /etc/x\n',
      },
      ['host_path'],
    ],
  ];

  it.each(cases)('%s', (_label, files, rules) => {
    expect(rulesOf(files)).toEqual(rules);
  });

  it.each([
    'git@github.com:someone/compose.git',
    'deploy@git.example.com:team/compose.git',
    'https://example.com/r.git',
    'oci://registry.example.com/compose:1',
    'github.com/someone/compose',
  ])('refuses the remote include %s, and the same as an extends file', (ref) => {
    expect(rulesOf({ 'compose.yaml': `include: ["${ref}"]\n${app('')}` })).toEqual([
      'remote_include',
    ]);
    expect(rulesOf({ 'compose.yaml': app(`    extends: {file: "${ref}", service: b}\n`) })).toEqual(
      ['remote_include'],
    );
  });
});

describe('checkReferences: the -f files themselves', () => {
  it('refuses a compose file swapped for a symlink out of the stack directory', () => {
    const found = checkReferences([`${root}/compose.yaml`], {
      root,
      policy: DEFAULT_HOST_POLICY,
      paths: { realpath: (p) => (p === `${root}/compose.yaml` ? '/etc/shadow' : p) },
      reader: reader({ 'compose.yaml': app('') }),
    });
    expect(found.violations.map((v) => [v.rule, v.where])).toEqual([
      ['symlink', '-f compose.yaml'],
    ]);
  });
});

describe('checkReferences: relative paths start where compose starts them', () => {
  const deep = 'd1/d2/d3/d4/d5/d6/d7/d8/d9/d10/d11/d12';

  it('every -f file from the first one’s directory', () => {
    const files = {
      'compose.yaml': app(''),
      [`${deep}/prod.yaml`]: `services:\n  app:\n    env_file: ${up}etc/hostname\n`,
    };
    expect(rulesOf(files, ['compose.yaml', `${deep}/prod.yaml`])).toEqual(['host_path']);
    // The same file given first is its own project directory: the path stays inside.
    expect(
      rulesOf({ [`${deep}/prod.yaml`]: files[`${deep}/prod.yaml`] as string }, [
        `${deep}/prod.yaml`,
      ]),
    ).toEqual([]);
  });

  it('every file of one include from its first file’s directory', () => {
    const files = {
      'compose.yaml': `include:\n  - path: [base.yaml, ${deep}/more.yaml]\n${app('')}`,
      'base.yaml': app(''),
      [`${deep}/more.yaml`]: `services:\n  app:\n    env_file: ${up}etc/hostname\n`,
    };
    expect(rulesOf(files)).toEqual(['host_path']);
  });

  it('an include’s files from its project_directory', () => {
    const files = {
      'compose.yaml': `include:\n  - path: ${deep}/o.yaml\n    project_directory: .\n${app('')}`,
      [`${deep}/o.yaml`]: `services:\n  o:\n    env_file: ${up}etc/hostname\n`,
    };
    expect(rulesOf(files)).toEqual(['host_path']);
  });

  it('an extends file from its own directory', () => {
    const files = {
      'compose.yaml': app(`    extends: {file: ${deep}/b.yaml, service: b}\n`),
      [`${deep}/b.yaml`]: 'services:\n  b:\n    env_file: ../../x.env\n',
    };
    expect(rulesOf(files)).toEqual([]);
  });
});

describe('checkReferences: what it cannot read as compose would, it refuses whole', () => {
  it.each([
    ['YAML its parser rejects', 'services: [\n', /not valid|Unexpected|Missing|flow/i],
    [
      'more aliases than it expands',
      `x-a: &a 1\nx-l: [${'*a,'.repeat(12_000)}]\n${app('')}`,
      /aliases/,
    ],
    ['a file too large to read', '<huge>', /larger than 2 MB/],
    ['a path that is a list', app('    extends: {file: [a.yaml], service: b}\n'), /not a path/],
  ])(
    '%s',
    (_label, text, reason) => {
      let err: unknown;
      try {
        check({ 'compose.yaml': text });
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(UncheckableFile);
      expect((err as Error).message).toMatch(reason);
      expect((err as Error).message).toContain('cannot check compose.yaml');
      // 12 000 aliases take the YAML parser seconds on a busy 2-core machine.
    },
    30_000,
  );

  it('an include chain longer than it follows, and not a cycle', () => {
    const chain: Record<string, string> = {};
    for (let i = 0; i < 205; i++) chain[`f${i}.yaml`] = `include: [f${i + 1}.yaml]\n`;
    chain['compose.yaml'] = `include: [f0.yaml]\n${app('')}`;
    expect(() => check(chain)).toThrow(/more than 200 files/);
    const cycle = {
      'compose.yaml': `include: [a.yaml]\n${app('')}`,
      'a.yaml': 'include: [compose.yaml]\n',
    };
    expect(rulesOf(cycle)).toEqual([]);
  });

  it('leaves a missing file for compose to report', () => {
    expect(rulesOf({ 'compose.yaml': `include: [missing.yaml]\n${app('')}` })).toEqual([]);
  });
});

describe('checkReferences: the files compose reads', () => {
  it('lists compose files, includes, extends and env files, and the .env an include looks for', () => {
    const { files } = check({
      'compose.yaml': `include: [i.yaml]\n${app('    env_file: [a.env, gone.env]\n    extends: {file: b.yaml, service: b}\n')}`,
      'i.yaml': app(''),
      'a.env': 'A=1\n',
      'b.yaml': 'services:\n  b:\n    image: x\n',
    });
    expect(files.map((f) => posix.relative(root, f)).sort()).toEqual([
      '.env',
      'a.env',
      'b.yaml',
      'compose.yaml',
      'gone.env',
      'i.yaml',
    ]);
  });
});

describe('checkReferences: exceptions', () => {
  const files = { 'compose.yaml': app('    env_file: /srv/shared/app.env\n') };
  it.each([
    [[], ['host_path']],
    [['host_path'], []],
    [['/srv/shared'], []],
    [['/srv/other'], ['host_path']],
  ])('with %j excepted: %j', (exceptions, rules) => {
    expect(
      rulesOf(files, ['compose.yaml'], mergeExceptions(DEFAULT_HOST_POLICY, exceptions)),
    ).toEqual(rules);
  });
});

describe('envFileSettings', () => {
  it.each([
    ['COMPOSE_EXPERIMENTAL_GIT_REMOTE=1', 'COMPOSE_EXPERIMENTAL_GIT_REMOTE'],
    ['export DOCKER_HOST=tcp://x:2375', 'DOCKER_HOST'],
    ['DOCKER_CONFIG: /tmp', 'DOCKER_CONFIG'],
    ['  COMPOSE_ENV_FILES = a.env', 'COMPOSE_ENV_FILES'],
    ['LD_PRELOAD=/data/x.so', 'LD_PRELOAD'],
    ['SSH_ASKPASS=/data/x', 'SSH_ASKPASS'],
    ['https_proxy=http://evil:3128', 'https_proxy'],
    ['OPENSSL_CONF=/data/o.cnf', 'OPENSSL_CONF'],
    ['GIT_SSH_COMMAND=sh -c x', 'GIT_SSH_COMMAND'],
    ['HOME=/data', 'HOME'],
    ['COMPOSE_PROJECT_NAME=x', undefined],
    ['COMPOSE_FILE=a.yaml', undefined],
    ['COMPOSE_PROFILES=debug', undefined],
    ['DATABASE_URL=postgres://db', undefined],
    ['ENV=production', undefined],
    ['# LD_PRELOAD=x', undefined],
  ])('%s → %s', (line, key) => {
    const found = envFileSettings(`A=1\n${line}\n`, '.env');
    expect(found.map((v) => v.value)).toEqual(key ? [key] : []);
    for (const v of found) expect(v).toMatchObject({ rule: 'compose_setting', where: '.env' });
  });

  it('isProcessSetting answers for one name', () => {
    expect(isProcessSetting('LD_LIBRARY_PATH')).toBe(true);
    expect(isProcessSetting('TAG')).toBe(false);
  });
});
