// biome-ignore-all lint/suspicious/noTemplateCurlyInString: compose interpolation syntax is part of the input
import { createHmac } from 'node:crypto';
import { composeSubcommand } from '@simpledeploy/testing/fakes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from './app';
import { testDomain, testGitops } from './test-domain';
import { TEST_KEY, testDeps } from './test-helpers';

/**
 * Bad input over every route of api.md: each answer is a 4xx with the error body and a
 * message a person can act on; none is a 5xx; nothing in the database changes and no
 * command reaches the Docker host.
 */

interface Case {
  label: string;
  method: string;
  path: string;
  /** A string is sent as is; anything else as JSON. */
  body?: unknown;
  headers?: Record<string, string>;
  /** Without the API key (default: with it). */
  anonymous?: boolean;
  status?: number;
  code?: string;
  message?: RegExp;
}

const HOOK_SECRET = 'bad-input-hook-secret';
const compose = 'services:\n  web:\n    image: nginx:alpine\n';
const svc = (extra: string) => `${compose}${extra}`;
const MiB = 1024 * 1024;

const cases: Case[] = [];
const add = (c: Case) => cases.push(c);

// --- POST /api/v1/stacks: names -------------------------------------------------------
const badNames: [string, unknown][] = [
  ['path traversal', '../x'],
  ['upper case', 'A'],
  ['a space', 'a b'],
  ['200 characters', 'a'.repeat(200)],
  ['64 characters', 'a'.repeat(64)],
  ['unicode', 'ünïcödé'],
  ['emoji', 'app-🚀'],
  ['NUL byte', 'a\0b'],
  ['empty', ''],
  ['blank', ' '],
  ['leading dash', '-app'],
  ['leading underscore', '_app'],
  ['a slash', 'a/b'],
  ['a dot', 'a.b'],
  ['a newline', 'app\n'],
  ['a number', 123],
  ['null', null],
  ['a boolean', true],
  ['a list', ['app']],
  ['an object', { name: 'app' }],
  ['right-to-left override', 'app\u202e'],
  ['percent-encoded', 'a%2Fb'],
];
for (const [label, name] of badNames) {
  add({
    label: `name: ${label}`,
    method: 'POST',
    path: '/api/v1/stacks',
    body: { name, compose },
    status: 400,
    message: /name/,
  });
}
add({
  label: 'name already taken',
  method: 'POST',
  path: '/api/v1/stacks',
  body: { name: 'web', compose },
  status: 409,
  message: /already exists/,
});
add({
  label: 'no name',
  method: 'POST',
  path: '/api/v1/stacks',
  body: { compose },
  status: 400,
  message: /name/,
});

// --- stack fields with the wrong type or value, for create and for update ------------
const badFields: [field: string, value: unknown, message?: RegExp][] = [
  ['compose', 1, /compose must be a string/],
  ['compose', [], /compose must be a string/],
  ['compose', { services: {} }, /compose must be a string/],
  ['compose', true],
  ['repo_url', 1, /repo_url/],
  ['repo_url', [], /repo_url/],
  ['repo_username', 1, /repo_username/],
  ['repo_username', 'u'.repeat(300), /repo_username is too large/],
  ['repo_token', 1, /repo_token/],
  ['repo_token', 't'.repeat(5000), /repo_token is too large/],
  ['repo_branch', 1, /repo_branch/],
  ['repo_branch', '', /repo_branch/],
  ['repo_branch', 'a b', /repo_branch/],
  ['repo_branch', 'main\0', /repo_branch/],
  ['repo_branch', 'x'.repeat(300), /repo_branch/],
  ['compose_path', 1, /compose_path/],
  ['compose_path', '', /compose_path/],
  ['compose_path', '../x.yaml', /compose_path must stay inside/],
  ['compose_path', '/etc/passwd', /compose_path must be a path relative/],
  ['compose_path', '.git/config', /compose_path must not point inside .git/],
  ['compose_path', 'a\\..\\b.yaml', /forward slashes/],
  ['compose_path', 'a\0.yaml', /control characters/],
  ['compose_includes', 'x.yaml', /compose_includes must be a list/],
  ['compose_includes', [1], /compose_includes/],
  ['compose_includes', ['../x.yaml'], /compose_includes\[0\] must stay inside/],
  ['compose_includes', ['/etc/x.yaml'], /compose_includes\[0\]/],
  ['compose_includes', Array(51).fill('a.yaml'), /compose_includes is too large/],
  ['compose_variables', [], /compose_variables must be an object/],
  ['compose_variables', 'A=1', /compose_variables must be an object/],
  ['compose_variables', { '1A': 'x' }, /"1A" is not a valid variable name/],
  ['compose_variables', { 'A B': 'x' }, /"A B" is not a valid variable name/],
  ['compose_variables', { A: {} }, /compose_variables/],
  ['compose_variables', { A: null }, /compose_variables/],
  ['compose_variables', { A: ['x'] }, /compose_variables/],
  ['service_filter', 1, /service_filter/],
  ['service_filter', [1], /service_filter/],
  ['service_filter', ['a b'], /service_filter: "a b" is not a service name/],
  ['service_filter', ['../x'], /not a service name/],
  ['service_filter', { web: true }, /service_filter/],
  ['auto_deploy', 'yes', /auto_deploy must be a boolean/],
  ['auto_deploy', 1, /auto_deploy must be a boolean/],
  ['auto_deploy', null, /auto_deploy must be a boolean/],
  ['reconcile_interval_seconds', -1, /reconcile_interval_seconds is too small/],
  ['reconcile_interval_seconds', 1.5, /reconcile_interval_seconds/],
  ['reconcile_interval_seconds', '10', /reconcile_interval_seconds must be a number/],
  ['reconcile_interval_seconds', 3, /0 \(never\) or at least 5/],
  ['reconcile_interval_seconds', 1e12, /reconcile_interval_seconds is too large/],
  ['reconcile_interval_seconds', null, /reconcile_interval_seconds/],
  ['auto_rollback', 'no', /auto_rollback must be a boolean/],
  ['auto_rollback', 0, /auto_rollback must be a boolean/],
  ['deploy_timeout_seconds', 5, /deploy_timeout_seconds is too small/],
  ['deploy_timeout_seconds', 'x', /deploy_timeout_seconds must be a number/],
  ['deploy_timeout_seconds', 1e9, /deploy_timeout_seconds is too large/],
  ['webhook_secret', 1, /webhook_secret/],
  ['webhook_secret', 'w'.repeat(5000), /webhook_secret is too large/],
  ['docker_registry', 1, /docker_registry/],
  ['docker_username', 'only-user', /docker_username and docker_password go together/],
  ['docker_password', 'only-password', /docker_username and docker_password go together/],
  ['docker_password', 1, /docker_password/],
  ['registries', {}, /registries must be a list/],
  ['registries', 'r', /registries must be a list/],
  ['registries', [{}], /registries/],
  ['registries', [{ registry: 'r' }], /registries/],
  ['registries', [{ registry: 'r', username: 'u', password: '' }], /password/],
  [
    'registries',
    [{ registry: 'r', username: 'u', password: 'p', token: 'x' }],
    /unknown field "token"/,
  ],
  ['registries', Array(21).fill({ registry: 'r', username: 'u', password: 'p' }), /too large/],
  ['colour', 'blue', /unknown field "colour"/],
  ['__proto__', { admin: true }, /unknown field/],
  ['constructor', 'x', /unknown field "constructor"/],
  ['has_repo_token', true, /unknown field "has_repo_token"/],
  ['id', 'stk_x', /unknown field "id"/],
  ['status', 'idle', /unknown field "status"/],
];
for (const [field, value, message] of badFields) {
  const rendered =
    typeof value === 'string' && value.length > 40
      ? `${value.length} chars`
      : JSON.stringify(value);
  // __proto__ only survives as an own key when the JSON is written out by hand.
  const body =
    field === '__proto__'
      ? `{"name":"fresh","compose":${JSON.stringify(compose)},"__proto__":{"admin":true}}`
      : { name: 'fresh', compose, [field]: value };
  add({
    label: `create: ${field} = ${rendered}`,
    method: 'POST',
    path: '/api/v1/stacks',
    body,
    status: 400,
    ...(message ? { message } : {}),
  });
  // Valid on the stack the updates go to, which has both already.
  if (field === 'docker_password' || field === 'docker_username') continue;
  const patch = field === '__proto__' ? '{"__proto__":{"admin":true}}' : { [field]: value };
  for (const method of ['PATCH', 'PUT']) {
    add({
      label: `update: ${field} = ${rendered}`,
      method,
      path: '/api/v1/stacks/web',
      body: patch,
      status: 400,
      ...(message ? { message } : {}),
    });
  }
}
add({
  label: 'update: renaming',
  method: 'PATCH',
  path: '/api/v1/stacks/web',
  body: { name: 'other' },
  status: 400,
  message: /name cannot be changed/,
});

// --- repo_url transports and shapes ----------------------------------------------------
const badRepoUrls: [string, RegExp][] = [
  ['file:///etc', /http:\/\/ or https:\/\//],
  ['file:///var/lib/simpledeploy/simpledeploy.db', /http:\/\/ or https/],
  ['ssh://git@github.com/o/r.git', /ssh, git@host:path, file/],
  ['git@github.com:o/r.git', /http:\/\/ or https/],
  ['ext::sh -c touch% /tmp/pwned', /http:\/\/ or https/],
  ['ext::ssh -o ProxyCommand=x h', /http:\/\/ or https/],
  ['git://github.com/o/r.git', /http:\/\/ or https/],
  ['ftp://h/r.git', /http:\/\/ or https/],
  ['javascript:alert(1)', /http:\/\/ or https/],
  ['fd::17', /http:\/\/ or https/],
  ['h/r.git', /http:\/\/ or https/],
  ['', /repo_url/],
  ['https://u:p@git.example/r.git', /must not contain credentials/],
  ['https://tok@git.example/r.git', /must not contain credentials/],
  ['http://', /repo_url/],
  ['https://git.example', /must name a repository/],
  ['https://git.example/r.git?x=1', /query string/],
  ['https://git.example/r.git#frag', /query string or fragment/],
  ['https://git.example/r .git', /spaces or control characters/],
  ['https://git.example/r\0.git', /spaces or control characters/],
  ['https://git.example/r\n.git', /spaces or control characters/],
  [`https://git.example/${'r'.repeat(3000)}.git`, /repo_url/],
];
for (const [url, message] of badRepoUrls) {
  add({
    label: `repo_url ${JSON.stringify(url.slice(0, 50))}`,
    method: 'POST',
    path: '/api/v1/stacks',
    body: { name: 'fresh', repo_url: url },
    status: 400,
    message,
  });
}
add({
  label: 'compose and repo_url',
  method: 'POST',
  path: '/api/v1/stacks',
  body: { name: 'fresh', compose, repo_url: 'https://git.example/r.git' },
  status: 400,
  message: /either compose .* or repo_url/,
});
add({
  label: 'neither compose nor repo_url',
  method: 'POST',
  path: '/api/v1/stacks',
  body: { name: 'fresh' },
  status: 400,
  message: /needs compose .* or repo_url/,
});
add({
  label: 'update: repo_url file://',
  method: 'PATCH',
  path: '/api/v1/stacks/gitapp',
  body: { repo_url: 'file:///etc' },
  status: 400,
  message: /http:\/\/ or https/,
});
add({
  label: 'update: clearing the only source',
  method: 'PATCH',
  path: '/api/v1/stacks/web',
  body: { compose: null },
  status: 400,
  message: /needs compose .* or repo_url/,
});

// --- compose YAML ------------------------------------------------------------------------
const badYaml: [string, string, RegExp][] = [
  ['unclosed list', 'services: [', /not valid YAML \(line 1\)/],
  ['a list', '- a\n- b\n', /YAML mapping/],
  ['a scalar', 'just text', /YAML mapping/],
  ['empty', '', /compose/],
  ['no services', 'version: "3"\n', /at least one service/],
  ['empty services', 'services: {}\n', /at least one service/],
  ['services as a list', 'services:\n  - web\n', /at least one service/],
  ['duplicate keys', 'services:\n  a: {}\n  a: {}\n', /not valid YAML/],
  ['bad indentation', 'services:\n  web:\n image: x\n   ports: 1\n', /not valid YAML/],
  ['a tab', 'services:\n\tweb: {}\n', /not valid YAML/],
  ['NUL byte', `${compose}\0`, /NUL bytes/],
  [
    'alias bomb',
    `a: &a [x,x,x,x,x,x,x,x,x,x]\nx-b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nx-c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nx-d: [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\nservices: {web: {image: x}}\n`,
    /compose/,
  ],
  ['bind mount of /etc', svc('    volumes:\n      - /etc:/host-etc\n'), /host_path/],
  ['bind mount of /', svc('    volumes:\n      - /:/host\n'), /host_path/],
  [
    'docker socket',
    svc('    volumes:\n      - /var/run/docker.sock:/var/run/docker.sock\n'),
    /docker_socket.*policy_exceptions/,
  ],
  ['bind mount ../../', svc('    volumes:\n      - ../../:/up\n'), /host_path/],
  ['bind mount ./../x', svc('    volumes:\n      - ./../x:/x\n'), /host_path/],
  ['bind mount ~', svc('    volumes:\n      - ~/.ssh:/ssh\n'), /host_path/],
  ['bind mount via variable', svc('    volumes:\n      - ${HOST_DIR:-/etc}:/x\n'), /host_path/],
  [
    'bind mount from a merge key',
    `x-h: &h\n  volumes: ["/:/host"]\nservices:\n  web:\n    image: nginx\n    <<: *h\n`,
    /host_path/,
  ],
  [
    'long bind mount',
    svc('    volumes:\n      - type: bind\n        source: /root\n        target: /r\n'),
    /host_path/,
  ],
  ['env_file traversal', svc('    env_file: ../../etc/environment\n'), /host_path.*env_file/],
  ['env_file absolute', svc('    env_file:\n      - /etc/shadow\n'), /host_path.*env_file/],
  ['env_file with a variable', svc('    env_file: ${E:-/etc}/x\n'), /host_path.*without/],
  [
    'env_file object',
    svc('    env_file:\n      - path: ../../x.env\n        required: false\n'),
    /env_file/,
  ],
  [
    'extends traversal',
    svc('    extends:\n      file: ../../other/compose.yaml\n      service: db\n'),
    /extends\.file/,
  ],
  [
    'extends absolute',
    svc('    extends:\n      file: /srv/compose.yaml\n      service: db\n'),
    /extends\.file/,
  ],
  ['include traversal', `include:\n  - ../../x/compose.yaml\n${compose}`, /include/],
  ['remote include', `include:\n  - https://example.com/x.git\n${compose}`, /remote_include/],
  ['secret from /etc', `${compose}secrets:\n  s:\n    file: /etc/shadow\n`, /secrets\.s\.file/],
  ['config traversal', `${compose}configs:\n  c:\n    file: ../../c.conf\n`, /configs\.c\.file/],
  ['build context traversal', svc('    build: ../../\n'), /build\.context/],
  [
    'bind volume device',
    `${compose}volumes:\n  v:\n    driver_opts: {type: none, o: bind, device: /etc}\n`,
    /volume_host_path/,
  ],
  ['privileged', svc('    privileged: true\n'), /privileged/],
  ['pid: host', svc('    pid: host\n'), /host_namespace/],
  ['network_mode: host', svc('    network_mode: host\n'), /host_namespace/],
  ['ipc: host', svc('    ipc: host\n'), /host_namespace/],
  ['userns_mode: host', svc('    userns_mode: host\n'), /host_namespace/],
  ['network_mode: container', svc('    network_mode: container:other\n'), /container_namespace/],
  [
    'volumes_from another container',
    svc('    volumes_from: ["container:other"]\n'),
    /container_namespace/,
  ],
  ['cap_add SYS_ADMIN', svc('    cap_add: [SYS_ADMIN]\n'), /cap_add/],
  ['cap_add ALL', svc('    cap_add: [ALL]\n'), /cap_add/],
  ['devices', svc('    devices: ["/dev/sda:/dev/sda"]\n'), /devices/],
  ['seccomp unconfined', svc('    security_opt: ["seccomp=unconfined"]\n'), /security_opt/],
  ['apparmor unconfined', svc('    security_opt: ["apparmor:unconfined"]\n'), /security_opt/],
];
for (const [label, yaml, message] of badYaml) {
  // What the host policy refuses is a 422 POLICY; a file that is not compose at all a 400.
  const status =
    /host_path|docker_socket|include|extends|env_file|secrets|configs|build|volume_host_path|privileged|namespace|cap_add|devices|security_opt/.test(
      message.source,
    )
      ? 422
      : 400;
  add({
    label: `create: compose ${label}`,
    method: 'POST',
    path: '/api/v1/stacks',
    body: { name: 'fresh', compose: yaml },
    status,
    message,
  });
  add({
    label: `update: compose ${label}`,
    method: 'PATCH',
    path: '/api/v1/stacks/web',
    body: { compose: yaml },
    status,
    message,
  });
}
for (const name of [
  'COMPOSE_EXPERIMENTAL_GIT_REMOTE',
  'COMPOSE_PROFILES',
  'DOCKER_HOST',
  'PATH',
  'home',
]) {
  add({
    label: `update: compose_variables ${name} is a compose or CLI setting`,
    method: 'PATCH',
    path: '/api/v1/stacks/web',
    body: { compose_variables: { [name]: 'x' } },
    status: 400,
    message: /setting of docker compose or the Docker CLI/,
  });
}
for (const [label, value] of [
  ['an unknown rule', 'everything'],
  ['a relative path', 'srv/data'],
  ['not a string', 3],
] as const) {
  add({
    label: `update: policy_exceptions with ${label}`,
    method: 'PATCH',
    path: '/api/v1/stacks/web',
    body: { policy_exceptions: [value] },
    status: 400,
    message: /policy_exceptions/,
  });
}
add({
  label: 'update: a variable that points a bind mount at the host',
  method: 'PATCH',
  path: '/api/v1/stacks/vars',
  body: { compose_variables: { DATA: '/etc' } },
  status: 422,
  message: /host_path/,
});
add({
  label: 'create: compose larger than 512 KiB',
  method: 'POST',
  path: '/api/v1/stacks',
  body: { name: 'fresh', compose: `${compose}#${'x'.repeat(600 * 1024)}\n` },
  status: 400,
  message: /compose is too large/,
});

// --- bodies that are not JSON objects, on every route that reads one ---------------------
const jsonBodyRoutes: [string, string][] = [
  ['POST', '/api/v1/stacks'],
  ['PATCH', '/api/v1/stacks/web'],
  ['PUT', '/api/v1/stacks/web'],
  ['POST', '/api/v1/stacks/web/deploy'],
  ['POST', '/api/v1/stacks/web/rollback'],
  ['POST', '/api/v1/stacks/web/control'],
  ['POST', '/webhook'],
  // Supervisor's API
  ['POST', '/stacks'],
  ['PATCH', '/stacks/gitapp'],
  ['PUT', '/stacks/gitapp'],
  ['POST', '/stacks/web/control'],
];
const notObjects: [string, string][] = [
  ['invalid JSON', '{"name": '],
  ['a bare word', 'deploy'],
  ['a list', '[]'],
  ['a string', '"web"'],
  ['a number', '42'],
  ['null', 'null'],
  ['true', 'true'],
  ['YAML instead of JSON', 'name: web\ncompose: x\n'],
  ['trailing garbage', '{"name":"x"} x'],
  ['a NUL byte', '\0'],
  ['deep nesting', `${'['.repeat(5000)}${']'.repeat(5000)}`],
];
for (const [method, path] of jsonBodyRoutes) {
  for (const [label, body] of notObjects) {
    add({ label: `${label} body`, method, path, body, status: 400 });
  }
  if (!path.endsWith('/deploy') && !path.endsWith('/rollback') && path !== '/webhook') {
    add({ label: 'empty body', method, path, body: '', status: 400, message: /JSON/ });
  }
  add({
    label: 'body over 1 MiB',
    method,
    path,
    body: `{"x":"${'y'.repeat(MiB)}"}`,
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    message: /larger than/,
  });
}

// --- deploy, rollback, control, /webhook bodies -----------------------------------------
const badDeploy: [unknown, RegExp][] = [
  [{ ref: 1 }, /ref must be a branch, tag or commit/],
  [{ ref: '' }, /ref must be/],
  [{ ref: 'a b' }, /ref must be/],
  [{ ref: 'main\0' }, /ref must be/],
  [{ ref: 'x'.repeat(300) }, /ref must be/],
  [{ ref: 'a:b' }, /ref must be/],
  [{ ref: '~1' }, /ref must be/],
  [{ ref: ['main'] }, /ref must be/],
  [{ force: 'yes' }, /force must be true or false/],
  [{ force: 1 }, /force must be true or false/],
  [{ force: null }, /force must be true or false/],
  [{ branch: 'main' }, /unknown field "branch"/],
  [{ ref: 'main', wait: true }, /unknown field "wait"/],
];
for (const [body, message] of badDeploy) {
  add({
    label: `deploy ${JSON.stringify(body).slice(0, 40)}`,
    method: 'POST',
    path: '/api/v1/stacks/web/deploy',
    body,
    status: 400,
    message,
  });
  add({
    label: `deploy?wait=true ${JSON.stringify(body).slice(0, 40)}`,
    method: 'POST',
    path: '/api/v1/stacks/web/deploy?wait=true',
    body,
    status: 400,
    message,
  });
}
const badRollback: [unknown, number, RegExp][] = [
  [{ version_id: 1 }, 400, /version_id must be the id/],
  [{ version_id: '' }, 400, /version_id must be the id/],
  [{ version_id: null }, 400, /version_id/],
  [{ version_id: 'ver_nope' }, 404, /version 'ver_nope' does not exist/],
  [{ version_id: '../x' }, 404, /does not exist/],
  [{ version: 'x' }, 400, /unknown field "version"/],
  [{}, 409, /no earlier good version/],
];
for (const [body, status, message] of badRollback) {
  add({
    label: `rollback ${JSON.stringify(body)}`,
    method: 'POST',
    path: '/api/v1/stacks/web/rollback',
    body,
    status,
    message,
  });
}
const badControl: [unknown, RegExp][] = [
  [{}, /command must be one of/],
  [{ command: 'explode' }, /command must be one of start, stop, restart, pull, down, scale/],
  [{ command: 'RESTART' }, /command must be one of/],
  [{ command: 1 }, /command must be one of/],
  [{ command: ['restart'] }, /command must be one of/],
  [{ command: 'rm' }, /command must be one of/],
  [{ command: 'exec' }, /command must be one of/],
  [{ command: 'restart', services: 'web' }, /services must be a list of service names/],
  [{ command: 'restart', services: [1] }, /services must be a list/],
  [{ command: 'restart', services: ['a b'] }, /services must be a list/],
  [{ command: 'restart', services: ['--rm'] }, /services must be a list/],
  [{ command: 'restart', services: ['../x'] }, /services must be a list/],
  [{ command: 'stop', services: ['x'.repeat(200)] }, /services must be a list/],
  [{ command: 'restart', extra: 1 }, /unknown field "extra"/],
  [{ command: 'scale' }, /scale needs "service"/],
  [{ command: 'scale', service: 'web' }, /scale needs "replicas"/],
  [{ command: 'scale', service: 'web', replicas: -1 }, /from 0 to 100/],
  [{ command: 'scale', service: 'web', replicas: 101 }, /from 0 to 100/],
  [{ command: 'scale', service: 'web', replicas: 1.5 }, /whole number/],
  [{ command: 'scale', service: 'web', replicas: '3' }, /replicas/],
  [{ command: 'scale', service: '-d', replicas: 1 }, /scale needs "service"/],
  [{ command: 'scale', service: 'web=5', replicas: 1 }, /scale needs "service"/],
];
for (const [body, message] of badControl) {
  add({
    label: `control ${JSON.stringify(body).slice(0, 60)}`,
    method: 'POST',
    path: '/api/v1/stacks/web/control',
    body,
    status: 400,
    message,
  });
}
const badWebhook: [unknown, number, RegExp][] = [
  [{ stack: 1 }, 400, /stack must be a stack name/],
  [{ stack: null }, 400, /stack must be a stack name/],
  [{ stack: ['web'] }, 400, /stack must be a stack name/],
  [{ stack: 'nope' }, 404, /stack 'nope' does not exist/],
  [{ stack: '../x' }, 404, /does not exist/],
  [{ stack: '' }, 404, /does not exist/],
];
for (const [body, status, message] of badWebhook) {
  add({
    label: `/webhook ${JSON.stringify(body)}`,
    method: 'POST',
    path: '/webhook',
    body,
    status,
    message,
  });
}

// --- the per-stack git webhook -----------------------------------------------------------
const push = JSON.stringify({ ref: 'refs/heads/main', after: 'a'.repeat(40) });
const sign = (secret: string, body: string) =>
  `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
const hookCases: [string, string, Record<string, string>, string, number][] = [
  ['no signature', 'gitapp', { 'x-github-event': 'push' }, push, 401],
  [
    'wrong secret',
    'gitapp',
    { 'x-github-event': 'push', 'x-hub-signature-256': sign('wrong', push) },
    push,
    401,
  ],
  [
    'signature of another body',
    'gitapp',
    { 'x-github-event': 'push', 'x-hub-signature-256': sign(HOOK_SECRET, '{}') },
    push,
    401,
  ],
  ['malformed signature', 'gitapp', { 'x-hub-signature-256': 'sha256=zz' }, push, 401],
  ['empty signature', 'gitapp', { 'x-hub-signature-256': 'sha256=' }, push, 401],
  ['sha1 signature', 'gitapp', { 'x-hub-signature': 'sha1=abc' }, push, 401],
  [
    'wrong gitea signature',
    'gitapp',
    { 'x-gitea-event': 'push', 'x-gitea-signature': 'ab'.repeat(32) },
    push,
    401,
  ],
  [
    'wrong gogs signature',
    'gitapp',
    { 'x-gogs-event': 'push', 'x-gogs-signature': 'nope' },
    push,
    401,
  ],
  [
    'wrong gitlab token',
    'gitapp',
    { 'x-gitlab-event': 'Push Hook', 'x-gitlab-token': 'nope' },
    push,
    401,
  ],
  ['empty gitlab token', 'gitapp', { 'x-gitlab-token': '' }, push, 401],
  ['unknown stack', 'nope', { 'x-hub-signature-256': sign(HOOK_SECRET, push) }, push, 401],
  ['stack without a secret', 'nosecret', { 'x-gitlab-token': '' }, push, 401],
  ['wrong API key', 'gitapp', { 'x-api-key': 'wrong-key' }, push, 401],
  ['API key, unknown stack', 'nope', { 'x-api-key': TEST_KEY }, push, 404],
  [
    'body over 1 MiB',
    'gitapp',
    { 'x-hub-signature-256': 'sha256=00' },
    `{"x":"${'y'.repeat(MiB)}"}`,
    413,
  ],
  [
    'signed invalid JSON',
    'gitapp',
    { 'x-github-event': 'push', 'x-hub-signature-256': sign(HOOK_SECRET, '{"ref":') },
    '{"ref":',
    400,
  ],
];
for (const [label, stack, headers, body, status] of hookCases) {
  add({
    label: `stack webhook: ${label}`,
    method: 'POST',
    path: `/api/v1/stacks/${stack}/webhook`,
    body,
    headers,
    anonymous: true,
    status,
  });
}

// --- Supervisor's API: stack fields, control commands, log entries, webhook ------------------
const supervisorStack = {
  name: 'sv',
  git_repository: 'https://git.example/o/sv.git',
  git_reference: 'refs/heads/main',
  compose_file: 'docker-compose.yml',
  strategy: 'polling',
  polling_interval: '300',
};
const badSupervisorFields: [field: string, value: unknown, message: RegExp][] = [
  ['git_repository', 1, /git_repository/],
  ['git_repository', 'file:///etc', /git_repository/],
  ['git_repository', 'ssh://git@github.com/o/r.git', /git_repository/],
  ['git_username', 1, /git_username/],
  ['git_token', 't'.repeat(5000), /git_token is too large/],
  ['git_reference', 'a b', /git_reference is not a valid/],
  ['git_reference', 1, /git_reference/],
  ['compose_file', '../x.yml', /compose_file must stay inside/],
  ['compose_file', '/etc/passwd', /compose_file must be a path relative/],
  ['compose_includes', 'x.yml', /compose_includes must be a list/],
  ['compose_includes', ['../x.yml'], /compose_includes\[0\] must stay inside/],
  ['compose_variables', 'A=1', /compose_variables must be an object/],
  ['compose_variables', { COMPOSE_FILE: 'x' }, /setting of docker compose/],
  ['strategy', 'cron', /strategy must be "polling" or "webhook"/],
  ['strategy', 1, /strategy must be/],
  ['polling_interval', 'soon', /polling_interval must be a whole number/],
  ['polling_interval', '1.5', /polling_interval must be a whole number/],
  ['polling_interval', -1, /polling_interval must be a whole number/],
  ['polling_interval', 3, /polling_interval must be a whole number of seconds from 5/],
  ['polling_interval', 1e12, /polling_interval/],
  ['polling_interval', [300], /polling_interval/],
  ['signature_header', 'X Sig', /signature_header: must be an HTTP header name/],
  ['signature_header', 'X-Sig\r\nX-Evil: 1', /signature_header/],
  ['signature_header', 'x'.repeat(200), /signature_header is too large/],
  ['signature_secret', 1, /signature_secret/],
  ['colour', 'blue', /unknown field "colour"/],
];
for (const [field, value, message] of badSupervisorFields) {
  const rendered = JSON.stringify(value)?.slice(0, 30);
  add({
    label: `Supervisor create: ${field} = ${rendered}`,
    method: 'POST',
    path: '/stacks',
    body: { ...supervisorStack, [field]: value },
    status: 400,
    message,
  });
  add({
    label: `Supervisor update: ${field} = ${rendered}`,
    method: 'PATCH',
    path: '/stacks/gitapp',
    body: { strategy: 'polling', polling_interval: 60, [field]: value },
    status: 400,
    message,
  });
}
for (const [label, body, status, message] of [
  ['no git_repository', { name: 'sv', strategy: 'webhook' }, 400, /git_repository is required/],
  [
    'polling without an interval',
    { ...supervisorStack, polling_interval: null },
    400,
    /needs polling_interval/,
  ],
  ['name taken', { ...supervisorStack, name: 'gitapp' }, 409, /already exists/],
  ['bad name', { ...supervisorStack, name: 'Who Am I' }, 400, /name/],
  ['wrapped stack not an object', { stack: 'sv' }, 400, /unknown field "stack"/],
] as const) {
  add({
    label: `Supervisor create: ${label}`,
    method: 'POST',
    path: '/stacks',
    body,
    status,
    message,
  });
}
add({
  label: 'Supervisor update: polling without an interval on a stack that does not poll',
  method: 'PUT',
  path: '/stacks/gitapp',
  body: { strategy: 'polling' },
  status: 400,
  message: /needs polling_interval/,
});
add({
  label: 'Supervisor update: renaming',
  method: 'PATCH',
  path: '/stacks/gitapp',
  body: { name: 'other' },
  status: 400,
  message: /name cannot be changed/,
});
for (const [body, message] of [
  [{}, /command must be one of start, stop, restart, redeploy, pause, unpause/],
  [{ command: 'invalid' }, /command must be one of/],
  [{ command: 'down' }, /command must be one of/],
  [{ command: 'START' }, /command must be one of/],
  [{ command: ['start'] }, /command must be one of/],
  [{ command: 'start', services: ['web'] }, /unknown field "services"/],
] as const) {
  add({
    label: `Supervisor control ${JSON.stringify(body)}`,
    method: 'POST',
    path: '/stacks/web/control',
    body,
    status: 400,
    message,
  });
}
add({
  label: 'Supervisor control before the first deploy',
  method: 'POST',
  path: '/stacks/gitapp/control',
  body: { command: 'restart' },
  status: 409,
  message: /not been deployed yet/,
});
for (const entries of ['lots', '-1', '1.5', '1e3', '', '9999999']) {
  add({
    label: `Supervisor log ?entries=${entries}`,
    method: 'GET',
    path: `/stacks/web/log?entries=${entries}`,
    status: 400,
    message: /entries must be a whole number/,
  });
}
const svHook = (h: Record<string, string>) => ({ 'content-type': 'application/json', ...h });
for (const [label, stack, headers, body, status] of [
  ['no signature', 'sigapp', {}, push, 401],
  ['wrong secret', 'sigapp', { 'x-sig': sign('wrong', push) }, push, 401],
  ['signature of another body', 'sigapp', { 'x-sig': sign(HOOK_SECRET, '{}') }, push, 401],
  ['right signature, wrong header', 'sigapp', { 'x-other': sign(HOOK_SECRET, push) }, push, 401],
  ['unknown digest', 'sigapp', { 'x-sig': `md5=${'0'.repeat(32)}` }, push, 401],
  ['malformed signature', 'sigapp', { 'x-sig': 'sha256=zz' }, push, 401],
  [
    'unknown stack',
    '8db7fde4-6a11-462e-ba27-6897b7c9281b',
    { 'x-sig': sign(HOOK_SECRET, push) },
    push,
    401,
  ],
  ['stack without a secret', 'nosecret', { 'x-sig': '' }, push, 401],
  ['wrong API key', 'sigapp', { authorization: 'Bearer 4711' }, push, 401],
  ['API key, unknown stack', 'nope', { 'x-api-key': TEST_KEY }, push, 404],
  ['body over 1 MiB', 'sigapp', { 'x-sig': 'sha256=00' }, `{"x":"${'y'.repeat(MiB)}"}`, 413],
  ['signed invalid JSON', 'sigapp', { 'x-sig': sign(HOOK_SECRET, '{"ref":') }, '{"ref":', 400],
] as const) {
  add({
    label: `Supervisor webhook: ${label}`,
    method: 'POST',
    path: `/stacks/${stack}/webhook`,
    body,
    headers: svHook(headers),
    anonymous: true,
    status,
  });
}

// --- ids that do not exist, or could not, in every path ----------------------------------
const badIds = [
  'nope',
  'stk_00000000000000000000',
  '..%2Fx',
  'a%20b',
  'a'.repeat(200),
  '%C3%BC',
  '%00',
  'A',
  "x'%20or%201=1--",
];
const stackRoutes: [string, string, unknown?][] = [
  ['GET', ''],
  ['PATCH', '', { auto_deploy: true }],
  ['PUT', '', { auto_deploy: true }],
  ['DELETE', '?remove_volumes=true'],
  ['GET', '/services'],
  ['GET', '/stats'],
  ['GET', '/events'],
  ['GET', '/drift'],
  ['GET', '/deployments'],
  ['GET', '/versions'],
  ['GET', '/versions/ver_x'],
  ['GET', '/logs'],
  ['GET', '/logs?follow=true'],
  ['POST', '/deploy'],
  ['POST', '/deploy?wait=true', { force: true }],
  ['POST', '/cancel'],
  ['POST', '/rollback'],
  ['POST', '/control', { command: 'restart' }],
];
for (const id of badIds) {
  for (const [method, suffix, body] of stackRoutes) {
    add({
      label: `unknown stack ${id.slice(0, 20)}`,
      method,
      path: `/api/v1/stacks/${id}${suffix}`,
      ...(body === undefined ? {} : { body }),
      status: 404,
      message: /does not exist/,
    });
  }
  for (const [method, suffix, body] of [
    ['GET', ''],
    ['PATCH', '', { strategy: 'webhook' }],
    ['PUT', '', { strategy: 'webhook' }],
    ['DELETE', ''],
    ['GET', '/stats'],
    ['GET', '/log'],
    ['GET', '/log?entries=5'],
    ['GET', '/log?follow=true'],
    ['POST', '/control', { command: 'restart' }],
  ] as const) {
    add({
      label: `Supervisor: unknown stack ${id.slice(0, 20)}`,
      method,
      path: `/stacks/${id}${suffix}`,
      ...(body === undefined ? {} : { body }),
      status: 404,
      message: /does not exist/,
    });
  }
  add({
    label: 'unknown stack, WebSocket logs',
    method: 'GET',
    path: `/api/v1/stacks/${id}/logs/ws`,
    headers: { upgrade: 'websocket', connection: 'upgrade' },
    status: 404,
  });
}
for (const id of ['dep_nope', '..%2Fx', '%00', 'a'.repeat(200), '%F0%9F%9A%80']) {
  add({
    label: 'unknown deployment',
    method: 'GET',
    path: `/api/v1/deployments/${id}`,
    status: 404,
    message: /deployment .* does not exist/,
  });
  add({
    label: 'unknown deployment cancel',
    method: 'POST',
    path: `/api/v1/deployments/${id}/cancel`,
    status: 404,
    message: /does not exist/,
  });
  add({
    label: 'unknown deployment logs',
    method: 'GET',
    path: `/api/v1/deployments/${id}/logs`,
    status: 404,
  });
  add({
    label: 'unknown deployment follow',
    method: 'GET',
    path: `/api/v1/deployments/${id}/logs?follow=true`,
    status: 404,
  });
  add({
    label: 'unknown deployment ws',
    method: 'GET',
    path: `/api/v1/deployments/${id}/logs/ws`,
    headers: { upgrade: 'websocket', connection: 'upgrade' },
    status: 404,
  });
}
add({
  label: 'unknown version',
  method: 'GET',
  path: '/api/v1/stacks/web/versions/ver_nope',
  status: 404,
  message: /version 'ver_nope' does not exist/,
});
add({
  label: 'cancel with nothing running',
  method: 'POST',
  path: '/api/v1/stacks/web/cancel',
  status: 409,
  message: /no running or queued deployment/,
});
add({
  label: 'cancel an ended deployment',
  method: 'POST',
  path: '/api/v1/deployments/{deployment}/cancel',
  status: 409,
  message: /already ended/,
});
add({
  label: 'control before the first deploy',
  method: 'POST',
  path: '/api/v1/stacks/gitapp/control',
  body: { command: 'restart' },
  status: 409,
  message: /not been deployed yet/,
});

// --- wrong methods and unknown paths -------------------------------------------------------
const wrongMethods: [string, string][] = [
  ['PUT', '/api/v1/stacks'],
  ['PATCH', '/api/v1/stacks'],
  ['DELETE', '/api/v1/stacks'],
  ['POST', '/api/v1/stacks/web'],
  ['GET', '/api/v1/stacks/web/deploy'],
  ['PUT', '/api/v1/stacks/web/deploy'],
  ['DELETE', '/api/v1/stacks/web/deploy'],
  ['GET', '/api/v1/stacks/web/cancel'],
  ['GET', '/api/v1/stacks/web/rollback'],
  ['GET', '/api/v1/stacks/web/control'],
  ['POST', '/api/v1/stacks/web/services'],
  ['POST', '/api/v1/stacks/web/stats'],
  ['POST', '/api/v1/stacks/web/drift'],
  ['POST', '/api/v1/stacks/web/events'],
  ['POST', '/api/v1/stacks/web/deployments'],
  ['POST', '/api/v1/stacks/web/versions'],
  ['DELETE', '/api/v1/stacks/web/versions/x'],
  ['POST', '/api/v1/stacks/web/logs'],
  ['GET', '/api/v1/stacks/web/webhook'],
  ['PUT', '/api/v1/deployments/x'],
  ['DELETE', '/api/v1/deployments/x'],
  ['GET', '/api/v1/deployments/x/cancel'],
  ['GET', '/webhook'],
  ['PUT', '/webhook'],
  ['POST', '/health'],
  ['DELETE', '/up'],
  ['POST', '/metrics'],
  ['GET', '/api/v1'],
  ['GET', '/api/v1/nope'],
  ['GET', '/api/v2/stacks'],
  ['GET', '/api/v1/stacks/web/nope'],
  ['GET', '/api/v1/stacks/web/versions/x/y'],
  ['GET', '/api/v1/deployments'],
  ['PATCH', '/stacks'],
  ['DELETE', '/stacks'],
  ['POST', '/stacks/web'],
  ['GET', '/stacks/web/webhook'],
  ['GET', '/stacks/web/control'],
  ['POST', '/stacks/web/stats'],
  ['POST', '/stacks/web/log'],
  ['GET', '/stacks/web/nope'],
  ['GET', '/../../etc/passwd'],
  ['GET', '/api/v1/stacks/%2e%2e/%2e%2e/etc/passwd'],
];
for (const [method, path] of wrongMethods) {
  add({ label: 'wrong method or path', method, path, status: 404, message: /no route for/ });
}

// --- authentication ------------------------------------------------------------------------
const protectedRoutes: [string, string][] = [
  ['GET', '/api/v1/stacks'],
  ['POST', '/api/v1/stacks'],
  ['GET', '/api/v1/stacks/web'],
  ['PATCH', '/api/v1/stacks/web'],
  ['DELETE', '/api/v1/stacks/web'],
  ['POST', '/api/v1/stacks/web/deploy'],
  ['GET', '/api/v1/stacks/web/deployments'],
  ['GET', '/api/v1/deployments/x'],
  ['POST', '/api/v1/deployments/x/cancel'],
  ['POST', '/api/v1/stacks/web/rollback'],
  ['POST', '/api/v1/stacks/web/control'],
  ['GET', '/api/v1/stacks/web/services'],
  ['GET', '/api/v1/stacks/web/drift'],
  ['GET', '/api/v1/stacks/web/versions'],
  ['GET', '/api/v1/stacks/web/logs'],
  ['POST', '/webhook'],
  ['GET', '/api/v1/nope'],
  ['GET', '/stacks'],
  ['GET', '/stacks/'],
  ['POST', '/stacks'],
  ['GET', '/stacks/web'],
  ['PATCH', '/stacks/web'],
  ['PUT', '/stacks/web'],
  ['DELETE', '/stacks/web'],
  ['GET', '/stacks/web/stats'],
  ['POST', '/stacks/web/control'],
  ['GET', '/stacks/web/log'],
  ['GET', '/stacks/nope'],
];
const badCredentials: [string, Record<string, string>][] = [
  ['no key', {}],
  ['wrong key', { 'x-api-key': 'wrong' }],
  ['key with a suffix', { 'x-api-key': `${TEST_KEY}x` }],
  ['empty bearer', { authorization: 'Bearer ' }],
  ['basic scheme', { authorization: `Basic ${TEST_KEY}` }],
];
for (const [method, path] of protectedRoutes) {
  for (const [label, headers] of badCredentials) {
    add({
      label: `unauthenticated (${label})`,
      method,
      path,
      headers,
      anonymous: true,
      status: 401,
      code: 'UNAUTHORIZED',
      message: /API key/,
    });
  }
  add({
    label: 'key in the query string of a plain request',
    method,
    path: `${path}?token=${TEST_KEY}`,
    anonymous: true,
    status: 401,
    message: /\?token= is accepted only on WebSocket/,
  });
  add({
    label: 'key in the query string of an upgrade to an ordinary route',
    method,
    path: `${path}?token=${TEST_KEY}`,
    headers: { upgrade: 'websocket', connection: 'upgrade' },
    anonymous: true,
    status: 401,
    message: /\?token= is accepted only on WebSocket/,
  });
}
for (const path of [
  '/api/v1/deployments/{deployment}/logs/ws',
  '/api/v1/stacks/web/logs/ws',
  '/api/v1/events/ws',
]) {
  add({
    label: 'key in the query string of a WebSocket route without the upgrade',
    method: 'GET',
    path: `${path}?token=${TEST_KEY}`,
    anonymous: true,
    status: 401,
    code: 'UNAUTHORIZED',
  });
}
add({
  label: 'WebSocket with a wrong ?token=',
  method: 'GET',
  path: '/api/v1/deployments/x/logs/ws?token=wrong',
  headers: { upgrade: 'websocket', connection: 'upgrade' },
  anonymous: true,
  status: 401,
});

/** The argv from the compose subcommand on. */
const tailOf = (args: string[]) => args.slice(args.indexOf(composeSubcommand(args)));

const CODES = [
  'UNAUTHORIZED',
  'NOT_FOUND',
  'VALIDATION',
  'POLICY',
  'CONFLICT',
  'PAYLOAD_TOO_LARGE',
  'RATE_LIMITED',
  'UNAVAILABLE',
  'INTERNAL',
];

describe(`bad input: ${cases.length} requests over every route`, () => {
  const domain = testDomain();
  const app = createApp(
    testDeps({
      domain: { ...domain, gitops: testGitops(domain) },
      rateLimit: false,
    }),
  );
  const sqlite = domain.sqlite;
  const tables = (
    sqlite.prepare("select name from sqlite_master where type = 'table' order by name").all() as {
      name: string;
    }[]
  )
    .map((t) => t.name)
    // The audit log records every refused request: the one table that is meant to grow.
    .filter((t) => t !== 'audit_log' && t !== 'sqlite_sequence');
  const snapshot = () =>
    JSON.stringify(
      tables.map((t) => [t, sqlite.prepare(`select * from "${t}" order by rowid`).all()]),
    );
  let deploymentId = '';
  const statuses = new Map<number, number>();

  beforeAll(async () => {
    await domain.stacks.create({
      name: 'web',
      compose,
      webhook_secret: HOOK_SECRET,
      docker_username: 'u',
      docker_password: 'registry-pw',
    });
    await domain.stacks.create({
      name: 'gitapp',
      repo_url: 'https://git.example/o/app.git',
      repo_branch: 'main',
      webhook_secret: HOOK_SECRET,
    });
    await domain.stacks.create({ name: 'nosecret', repo_url: 'https://git.example/o/other.git' });
    await domain.stacks.create({
      name: 'sigapp',
      repo_url: 'https://git.example/o/sig.git',
      repo_branch: 'main',
      webhook_secret: HOOK_SECRET,
      webhook_signature_header: 'X-Sig',
    });
    await domain.stacks.create({
      name: 'vars',
      compose: svc('    volumes:\n      - ${DATA:-./data}:/data\n'),
    });
    const { deployment } = domain.deployer.deploy('web', { trigger: 'manual' });
    await domain.deployer.waitFor(deployment.id);
    deploymentId = deployment.id;
    domain.runner.calls.length = 0;
  });

  afterAll(() => {
    const summary = [...statuses]
      .sort(([a], [b]) => a - b)
      .map(([s, n]) => `${s}×${n}`)
      .join(', ');
    console.log(
      `bad input: ${cases.length} cases, every answer a 4xx with the error body (${summary})`,
    );
  });

  it(`has at least 300 cases (${cases.length})`, () => {
    expect(cases.length).toBeGreaterThanOrEqual(300);
  });

  it.each(
    cases.map((c, i) => [`#${i + 1} ${c.method} ${c.path.slice(0, 70)} — ${c.label}`, c] as const),
  )('%s', async (_name, c) => {
    const before = snapshot();
    const path = c.path.replace('{deployment}', deploymentId);
    const headers: Record<string, string> = {
      ...(c.anonymous ? {} : { 'x-api-key': TEST_KEY }),
      ...(c.body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...c.headers,
    };
    const res = await app.request(path, {
      method: c.method,
      headers,
      ...(c.body !== undefined
        ? { body: typeof c.body === 'string' ? c.body : JSON.stringify(c.body) }
        : {}),
    });
    const text = await res.text();
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    expect(res.status, text).toBeGreaterThanOrEqual(400);
    expect(res.status, text).toBeLessThan(500);
    if (c.status) expect(res.status, text).toBe(c.status);
    const body = JSON.parse(text);
    expect(Object.keys(body), text).toEqual(['error']);
    expect(Object.keys(body.error).sort()).toEqual(['code', 'details', 'message']);
    expect(CODES).toContain(body.error.code);
    if (c.code) expect(body.error.code).toBe(c.code);
    expect(typeof body.error.details).toBe('object');
    expect(body.error.message.length, text).toBeGreaterThan(12);
    if (c.message) expect(body.error.message).toMatch(c.message);
    // Nothing in the database changed, and no command reached the Docker host: at most
    // compose was asked for its model of a file (`config`, which reads and changes nothing).
    expect(snapshot()).toBe(before);
    expect(
      domain.runner.calls.filter((call) => tailOf(call.args).join(' ') !== 'config --format json'),
    ).toEqual([]);
    domain.runner.calls.length = 0;
  });
});
