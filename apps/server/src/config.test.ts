import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config';

const KEY = 'k'.repeat(32);

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env, '/srv');
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    expect(loadConfig({ PATH: '/usr/bin', HOME: '/root' }, '/srv')).toEqual({
      apiKey: undefined,
      secretKey: undefined,
      host: '0.0.0.0',
      port: 8000,
      dataDir: '/srv/data',
      maxConcurrentDeploys: 3,
      auditRetentionDays: 90,
      hostCheckIntervalSeconds: 30,
      deploymentRetentionDays: 90,
      deploymentKeepPerStack: 200,
      crashLoop: { restarts: 5, windowMinutes: 10, checkSeconds: 60 },
      projectPrefix: 'simpledeploy',
      dockerHost: undefined,
      logLevel: 'info',
      legacyRepo: undefined,
      childEnv: { PATH: '/usr/bin', HOME: '/root' },
      allowedHostPaths: [],
      allowedRules: [],
    });
  });

  it('reads SIMPLEDEPLOY_PUBLIC_URL without a trailing slash, and refuses one that is not http(s)', () => {
    expect(loadConfig({ SIMPLEDEPLOY_PUBLIC_URL: 'https://deploy.example.com/' }).publicUrl).toBe(
      'https://deploy.example.com',
    );
    expect(() => loadConfig({ SIMPLEDEPLOY_PUBLIC_URL: 'deploy.example.com' })).toThrow(
      /SIMPLEDEPLOY_PUBLIC_URL must be the http\(s\) URL/,
    );
  });

  it('reads SIMPLEDEPLOY_POLICY_ALLOW as host policy rules, and refuses a name that is not one', () => {
    expect(
      loadConfig({ SIMPLEDEPLOY_POLICY_ALLOW: 'docker_socket, cap_add' }).allowedRules,
    ).toEqual(['docker_socket', 'cap_add']);
    expect(() => loadConfig({ SIMPLEDEPLOY_POLICY_ALLOW: 'docker_socket,everything' })).toThrow(
      /SIMPLEDEPLOY_POLICY_ALLOW/,
    );
  });

  it('reads SIMPLEDEPLOY_ALLOWED_HOST_PATHS as a list of absolute paths', () => {
    const env = { SIMPLEDEPLOY_ALLOWED_HOST_PATHS: '/var/run/docker.sock, /srv/data,' };
    expect(loadConfig(env).allowedHostPaths).toEqual(['/var/run/docker.sock', '/srv/data']);
    expect(loadConfig({ SIMPLEDEPLOY_ALLOWED_HOST_PATHS: '*' }).allowedHostPaths).toEqual(['*']);
    for (const bad of ['relative/dir', '/srv/../etc', '~/x']) {
      expect(() => loadConfig({ SIMPLEDEPLOY_ALLOWED_HOST_PATHS: bad })).toThrow(
        /SIMPLEDEPLOY_ALLOWED_HOST_PATHS must be a comma-separated list of absolute paths/,
      );
    }
  });

  it('reads every variable', () => {
    const config = loadConfig(
      {
        SIMPLEDEPLOY_API_KEY: KEY,
        SIMPLEDEPLOY_SECRET_KEY: 's'.repeat(64),
        HOST: '127.0.0.1',
        PORT: '9000',
        SIMPLEDEPLOY_DATA_DIR: '/var/lib/simpledeploy',
        SIMPLEDEPLOY_MAX_CONCURRENT_DEPLOYS: '5',
        SIMPLEDEPLOY_PROJECT_PREFIX: 'sd_prod',
        DOCKER_HOST: 'tcp://127.0.0.1:2375',
        LOG_LEVEL: 'DEBUG',
        REPO_URL: 'https://git.example.com/team/app.git',
        REPO_USERNAME: 'deploy',
        REPO_TOKEN: 'tok-123',
        REPO_BRANCH: 'main',
        COMPOSE_PATH: 'deploy/compose.yaml',
        PATH: '/usr/bin',
      },
      '/srv',
    );
    expect(config).toMatchObject({
      apiKey: KEY,
      secretKey: 's'.repeat(64),
      host: '127.0.0.1',
      port: 9000,
      dataDir: '/var/lib/simpledeploy',
      maxConcurrentDeploys: 5,
      projectPrefix: 'sd_prod',
      dockerHost: 'tcp://127.0.0.1:2375',
      logLevel: 'debug',
      legacyRepo: {
        url: 'https://git.example.com/team/app.git',
        username: 'deploy',
        token: 'tok-123',
        branch: 'main',
        composePath: 'deploy/compose.yaml',
      },
    });
    expect(config.childEnv).toEqual({ PATH: '/usr/bin', DOCKER_HOST: 'tcp://127.0.0.1:2375' });
  });

  it('accepts API_KEY as an alias of SIMPLEDEPLOY_API_KEY', () => {
    expect(loadConfig({ API_KEY: KEY }).apiKey).toBe(KEY);
    expect(loadConfig({ API_KEY: KEY, SIMPLEDEPLOY_API_KEY: KEY }).apiKey).toBe(KEY);
  });

  it('rejects API_KEY and SIMPLEDEPLOY_API_KEY with different values', () => {
    expect(problemsOf({ API_KEY: KEY, SIMPLEDEPLOY_API_KEY: 'x'.repeat(32) })).toEqual([
      'SIMPLEDEPLOY_API_KEY and API_KEY are both set, to different values: set only one',
    ]);
  });

  it('treats empty variables as unset', () => {
    const config = loadConfig({ SIMPLEDEPLOY_API_KEY: '', PORT: '', REPO_URL: ' ' }, '/srv');
    expect(config).toMatchObject({ apiKey: undefined, port: 8000, legacyRepo: undefined });
  });

  it('resolves a relative data dir against the working directory', () => {
    expect(loadConfig({ SIMPLEDEPLOY_DATA_DIR: 'state' }, '/srv').dataDir).toBe('/srv/state');
  });

  it('reports every problem at once', () => {
    const problems = problemsOf({
      PORT: 'eighty',
      SIMPLEDEPLOY_MAX_CONCURRENT_DEPLOYS: '0',
      SIMPLEDEPLOY_PROJECT_PREFIX: 'My Project',
      SIMPLEDEPLOY_API_KEY: 'short',
      DOCKER_HOST: '/var/run/docker.sock',
      LOG_LEVEL: 'verbose',
      REPO_URL: 'git@github.com:team/app.git',
      COMPOSE_PATH: '../etc/compose.yaml',
    });
    expect(problems).toEqual([
      expect.stringMatching(/^SIMPLEDEPLOY_API_KEY must be at least 16 characters/),
      'PORT must be a whole number from 1 to 65535 (got "eighty")',
      'SIMPLEDEPLOY_MAX_CONCURRENT_DEPLOYS must be a whole number from 1 to 64 (got "0")',
      expect.stringMatching(
        /^SIMPLEDEPLOY_PROJECT_PREFIX must be 1-32 lowercase .*\(got "My Project"\)$/,
      ),
      expect.stringMatching(/^DOCKER_HOST must be a Docker endpoint/),
      'LOG_LEVEL must be one of debug, info, warn, error',
      'REPO_URL must be an http or https git URL',
      expect.stringMatching(/^COMPOSE_PATH must be a path inside the repository/),
    ]);
  });

  it('keeps audit entries for SIMPLEDEPLOY_AUDIT_RETENTION_DAYS days, 0 for ever', () => {
    expect(loadConfig({ SIMPLEDEPLOY_AUDIT_RETENTION_DAYS: '7' }).auditRetentionDays).toBe(7);
    expect(
      loadConfig({ SIMPLEDEPLOY_HOST_CHECK_INTERVAL_SECONDS: '5' }).hostCheckIntervalSeconds,
    ).toBe(5);
    expect(() => loadConfig({ SIMPLEDEPLOY_HOST_CHECK_INTERVAL_SECONDS: '1' })).toThrow(
      /SIMPLEDEPLOY_HOST_CHECK_INTERVAL_SECONDS/,
    );
    expect(loadConfig({ SIMPLEDEPLOY_AUDIT_RETENTION_DAYS: '0' }).auditRetentionDays).toBe(0);
    expect(problemsOf({ SIMPLEDEPLOY_AUDIT_RETENTION_DAYS: 'week' })).toEqual([
      'SIMPLEDEPLOY_AUDIT_RETENTION_DAYS must be a whole number from 0 to 36500 (got "week")',
    ]);
  });

  it('rejects numbers out of range and non-integers', () => {
    expect(problemsOf({ PORT: '70000' })).toEqual([
      'PORT must be a whole number from 1 to 65535 (got "70000")',
    ]);
    expect(problemsOf({ PORT: '80.5', SIMPLEDEPLOY_MAX_CONCURRENT_DEPLOYS: '-1' })).toHaveLength(2);
  });

  it('rejects prefixes that are not a valid compose project name start', () => {
    for (const prefix of ['-sd', 'SD', 'sd.prod', 'a'.repeat(33)]) {
      expect(problemsOf({ SIMPLEDEPLOY_PROJECT_PREFIX: prefix })).toHaveLength(1);
    }
    expect(loadConfig({ SIMPLEDEPLOY_PROJECT_PREFIX: '0sd_x-y' }).projectPrefix).toBe('0sd_x-y');
  });

  it('never echoes a secret in a problem', () => {
    const problems = problemsOf({
      SIMPLEDEPLOY_API_KEY: 'has space in it but long',
      SIMPLEDEPLOY_SECRET_KEY: 'tiny-secret',
      REPO_URL: 'ftp://user:hunter2@host/x',
    });
    expect(problems).toHaveLength(3);
    const text = problems.join('\n');
    for (const secret of ['has space', 'tiny-secret', 'hunter2'])
      expect(text).not.toContain(secret);
  });

  it('lists every problem in the error message', () => {
    expect(() => loadConfig({ PORT: 'x', LOG_LEVEL: 'loud' })).toThrow(
      /invalid configuration:\n {2}- PORT .*\n {2}- LOG_LEVEL /,
    );
  });
});
