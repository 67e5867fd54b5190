import {
  createJsonLogger,
  createSecretRegistry,
  type Logger,
  systemClock,
} from '@simpledeploy/core';
import type { FileLock } from '@simpledeploy/db';
import { createExecaRunner, findComposePlugin } from '@simpledeploy/deployer';
import pkg from '../package.json' with { type: 'json' };
import { type Config, ConfigError, loadConfig } from './config';
import { buildContainer, type Container } from './container';
import { DataDirBusyError, lockDataDir } from './data-dir';
import { resolveKeys } from './keys';

const out = (text: string) => process.stdout.write(`${text}\n`);

function lockOrExit(dataDir: string): FileLock {
  try {
    return lockDataDir(dataDir);
  } catch (error) {
    if (!(error instanceof DataDirBusyError)) throw error;
    process.stderr.write(`simpledeploy cannot start: ${error.message}\n`);
    process.exit(1);
  }
}

function readConfig(): Config {
  try {
    return loadConfig(process.env);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`simpledeploy cannot start: ${error.message}\n`);
    process.exit(1);
  }
}

/** SIGTERM/SIGINT stop gracefully and exit 0; a second signal exits at once. */
function handleSignals(container: Container, logger: Logger): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      logger.warn('second signal: exiting without waiting', { signal });
      process.exit(1);
    }
    stopping = true;
    logger.info('shutting down', { signal });
    container.stop().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error('shutdown failed', { error });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
}

function main(): void {
  const env = readConfig();
  // First of all: a second server on this data dir must not touch it (keys, orphans, stacks).
  const dataDirLock = lockOrExit(env.dataDir);
  const { config, apiKeyFile, secretKeyFile } = resolveKeys(env);

  // Every log line passes through the redactor: the keys, the legacy repo token and every
  // stack's secrets (tracked once the container is built) never appear.
  const secretRegistry = createSecretRegistry([
    config.apiKey,
    config.secretKey,
    config.legacyRepo?.token,
  ]);
  const redact = secretRegistry.redact;
  const logger = createJsonLogger({ level: config.logLevel, redact, write: out });

  if (apiKeyFile?.generated) {
    // Printed directly, once: the logger would redact it.
    out(
      `Generated an API key (SIMPLEDEPLOY_API_KEY was not set): ${apiKeyFile.value}\n` +
        `It is stored in ${apiKeyFile.path} and reused on later starts; send it as "X-API-KEY: <key>".`,
    );
  }
  if (secretKeyFile?.generated) {
    logger.warn('generated a key for secrets at rest; back it up, or set SIMPLEDEPLOY_SECRET_KEY', {
      path: secretKeyFile.path,
    });
  }

  let container: Container;
  try {
    container = buildContainer(config, {
      logger,
      redact,
      clock: systemClock,
      // `docker compose` runs the plugin binary itself: one process per call, not three.
      runner: createExecaRunner({ composePlugin: findComposePlugin(process.env) }),
      version: pkg.version,
      dataDirLock,
      // Each stack's secrets join the log redactor now and whenever the stack changes.
      secretRegistry,
    });
  } catch (error) {
    logger.error('cannot start', { error, data_dir: config.dataDir });
    process.exit(1);
  }
  handleSignals(container, logger);
  container.start().then(
    (address) => {
      logger.info('simpledeploy is listening', {
        url: `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`,
        data_dir: config.dataDir,
        version: pkg.version,
      });
    },
    async (error: unknown) => {
      logger.error('cannot listen', { error, host: config.host, port: config.port });
      await container.stop();
      process.exit(1);
    },
  );
}

main();
