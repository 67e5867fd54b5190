import { fileURLToPath } from 'node:url';
import { docker, runOk } from '../exec.js';

/** The recipe of the hosts' image; its content hash is the image's tag. */
export const TEST_HOST_IMAGE_SCRIPT = fileURLToPath(
  new URL('../../../../scripts/build-test-host-image.sh', import.meta.url),
);

let ensured: Promise<string> | undefined;

/**
 * The tag of the test hosts' image, built by scripts/build-test-host-image.sh when it is
 * missing (about 80 s, under the script's file lock so parallel callers build once;
 * `scripts/test.sh` builds it during provisioning, so tests normally find it cached).
 */
export function ensureTestHostImage(): Promise<string> {
  ensured ??= (async () => {
    const { stdout } = await runOk('bash', [TEST_HOST_IMAGE_SCRIPT, '--print-tag']);
    const tag = stdout.trim();
    const inspected = await docker(['image', 'inspect', '--format', '{{.Id}}', tag]);
    if (inspected.exitCode !== 0) {
      await runOk('bash', [TEST_HOST_IMAGE_SCRIPT], { timeoutMs: 15 * 60_000 });
    }
    return tag;
  })();
  ensured.catch(() => {
    ensured = undefined;
  });
  return ensured;
}
