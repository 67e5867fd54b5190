// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose interpolation syntax is the subject
import { describe, expect, it } from 'vitest';
import { checkComposeYaml } from './checks';
import { checkComposePaths, checkStatePaths, interpolate, parseEnvFile } from './host-paths';

const svc = (body: string) => `services:\n  web:\n    image: nginx\n${body}`;
const check = (yaml: string, opts: Parameters<typeof checkComposePaths>[1] = {}) =>
  checkComposePaths(checkComposeYaml(yaml), opts);

describe('checkComposePaths', () => {
  it.each([
    ['relative bind mount', svc('    volumes:\n      - ./data:/data\n')],
    ['named volume', svc('    volumes:\n      - db:/var/lib/db\nvolumes:\n  db: {}\n')],
    ['anonymous volume', svc('    volumes:\n      - /var/lib/db\n')],
    ['tmpfs long syntax', svc('    volumes:\n      - type: tmpfs\n        target: /tmp\n')],
    ['env_file inside', svc('    env_file: ./web.env\n')],
    ['env_file list with path', svc('    env_file:\n      - path: conf/a.env\n')],
    ['build context inside', svc('    build: ./app\n')],
    ['remote build context', svc('    build: https://github.com/o/r.git#main\n')],
    ['interpolated relative', svc('    volumes:\n      - ${DATA:-./data}:/data\n')],
    ['escaped dollar', svc('    command: echo $$HOME\n')],
    ['extends in the same file', svc('    extends: base\n')],
  ])('accepts %s', (_what, yaml) => {
    expect(() => check(yaml)).not.toThrow();
  });

  it.each([
    [
      'absolute bind mount',
      svc('    volumes:\n      - /etc:/host-etc\n'),
      /host outside the stack/,
    ],
    [
      'docker socket',
      svc('    volumes:\n      - /var/run/docker.sock:/s\n'),
      /SIMPLEDEPLOY_ALLOWED_HOST_PATHS/,
    ],
    ['home bind mount', svc('    volumes:\n      - ~/.ssh:/ssh:ro\n'), /host outside/],
    [
      '.. bind mount',
      svc('    volumes:\n      - ../../:/up\n'),
      /outside the stack directory with "\.\."/,
    ],
    ['nested .. bind mount', svc('    volumes:\n      - ./a/../../b:/b\n'), /"\.\."/],
    [
      'long syntax bind',
      svc('    volumes:\n      - type: bind\n        source: /\n        target: /host\n'),
      /host outside/,
    ],
    ['env_file ..', svc('    env_file: ../../etc/environment\n'), /env_file .* "\.\."/],
    ['env_file absolute', svc('    env_file:\n      - /etc/shadow\n'), /env_file/],
    ['env_file path object', svc('    env_file:\n      - path: ../x.env\n'), /env_file/],
    [
      'extends file ..',
      svc('    extends:\n      file: ../other/compose.yaml\n      service: x\n'),
      /extends\.file/,
    ],
    [
      'extends file absolute',
      svc('    extends:\n      file: /srv/x.yaml\n      service: x\n'),
      /extends\.file/,
    ],
    ['build context ..', svc('    build:\n      context: ../..\n'), /build\.context/],
    [
      'dockerfile ..',
      svc('    build:\n      context: .\n      dockerfile: ../Dockerfile\n'),
      /build\.dockerfile/,
    ],
    ['secret file', `${svc('')}secrets:\n  s:\n    file: /etc/shadow\n`, /secret s file/],
    ['config file ..', `${svc('')}configs:\n  c:\n    file: ../c.conf\n`, /config c file/],
    [
      'bind volume device',
      `${svc('')}volumes:\n  v:\n    driver_opts:\n      type: none\n      o: bind\n      device: /etc\n`,
      /volume v device/,
    ],
    ['include ..', `include:\n  - ../x/compose.yaml\n${svc('')}`, /include/],
    ['include object', `include:\n  - path: /srv/compose.yaml\n${svc('')}`, /include/],
    [
      'interpolated default',
      svc('    volumes:\n      - ${DATA:-/etc}:/data\n'),
      /= "\/etc:\/data"|host outside/,
    ],
    ['unknown variable', svc('    volumes:\n      - ${HOME}/.ssh:/ssh\n'), /host outside/],
    ['NUL byte', svc('    env_file: "a\\0b"\n'), /NUL/],
  ])('refuses %s with a message that says what to fix', (_what, yaml, msg) => {
    expect(() => check(yaml)).toThrow(msg);
  });

  it('uses compose_variables when interpolating', () => {
    const yaml = svc('    volumes:\n      - ${DATA}:/data\n');
    expect(() => check(yaml, { variables: { DATA: './d' } })).not.toThrow();
    expect(() => check(yaml, { variables: { DATA: '/srv' } })).toThrow(/host outside/);
  });

  it('allows the host paths the operator listed, and only those', () => {
    const policy = { allowedHostPaths: ['/var/run/docker.sock', '/srv/data/'] };
    const ok = svc('    volumes:\n      - /var/run/docker.sock:/s\n      - /srv/data/app:/d\n');
    expect(() => check(ok, { policy })).not.toThrow();
    const outside = svc('    volumes:\n      - /srv/data/../../etc:/d\n');
    expect(() => check(outside, { policy })).toThrow(/host outside/);
    expect(() => check(svc('    volumes:\n      - /srv/database:/d\n'), { policy })).toThrow();
    expect(() => check(outside, { policy: { allowedHostPaths: ['*'] } })).not.toThrow();
  });

  it('resolves relative paths from the file, so a file in a subdirectory may use ..', () => {
    const yaml = svc('    volumes:\n      - ../data:/data\n');
    expect(() => check(yaml, { file: 'deploy/compose.yaml' })).not.toThrow();
    expect(() => check(yaml, { file: 'compose.yaml' })).toThrow(/"\.\."/);
  });
});

describe('checkStatePaths', () => {
  it('checks files pulled in with extends and include, with the .env values', () => {
    const state = {
      files: {
        'compose.yaml': 'include:\n  - sub/extra.yaml\nservices:\n  web:\n    image: x\n',
        'sub/extra.yaml': 'services:\n  w2:\n    image: x\n    volumes:\n      - ${D}:/d\n',
        '.env': 'D=../../../etc\n',
      },
      composeFiles: ['compose.yaml'],
      envFile: '.env',
      variables: {},
      services: [],
    };
    expect(() => checkStatePaths(state, { allowedHostPaths: [] })).toThrow(
      /sub\/extra.yaml: service w2 bind mount .* "\.\."/,
    );
    expect(() =>
      checkStatePaths({ ...state, variables: { D: './d' } }, { allowedHostPaths: [] }),
    ).not.toThrow();
  });
});

describe('interpolate and parseEnvFile', () => {
  it.each([
    ['${A}', { A: 'x' }, 'x'],
    ['$A/b', { A: 'x' }, 'x/b'],
    ['${A:-d}', {}, 'd'],
    ['${A:-d}', { A: '' }, 'd'],
    ['${A-d}', { A: '' }, ''],
    ['${A:+alt}', { A: '1' }, 'alt'],
    ['${A:-${B:-z}}', {}, 'z'],
    ['$$A', { A: 'x' }, '$A'],
  ])('%s with %j is %s', (text, vars, out) => {
    expect(interpolate(text, vars as Record<string, string>)).toBe(out);
  });
  it('reads .env lines', () => {
    expect(parseEnvFile('# c\nA=1\nexport B="two words"\nC=x # note\n')).toEqual({
      A: '1',
      B: 'two words',
      C: 'x',
    });
  });
});
