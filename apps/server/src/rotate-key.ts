import { ConfigError } from './config';
import { RotateError, rotateSecretKey } from './rotate';

// `pnpm rotate-key` / `node apps/server/dist/rotate-key.js`: re-encrypts every stored
// secret under a new key. Stop the server first; see README "Security".
try {
  rotateSecretKey({ env: process.env, out: (line) => process.stdout.write(`${line}\n`) });
} catch (error) {
  if (error instanceof RotateError || error instanceof ConfigError) {
    process.stderr.write(`simpledeploy rotate-key: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
