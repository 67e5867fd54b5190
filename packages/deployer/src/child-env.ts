/** The only variables of the server's environment a compose process inherits. */
const PASSED = [
  'PATH',
  'HOME',
  'DOCKER_HOST',
  'DOCKER_CERT_PATH',
  'DOCKER_TLS_VERIFY',
  'DOCKER_API_VERSION',
] as const;

/**
 * The base environment of every compose child, picked from the server's own. Nothing
 * else passes: the API key and secret key must never reach compose interpolation.
 */
export function childEnvFrom(env: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k of PASSED) {
    const v = env[k];
    if (v) out[k] = v;
  }
  out.PATH ??= '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
  return out;
}
