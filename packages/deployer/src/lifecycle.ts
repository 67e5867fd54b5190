import { composeArgs, composeProjectArgs } from '@simpledeploy/compose';
import {
  AppError,
  type Clock,
  type CommandRunner,
  type ControlCommand,
  conflict,
  isServiceName,
  type Redact,
  type SecretBox,
  validation,
} from '@simpledeploy/core';
import {
  type Db,
  findStack,
  getVersion,
  insertCommand,
  listCommands,
  updateCommand,
} from '@simpledeploy/db';
import type { ChangeBus } from './change-bus';
import type { ComposeSession } from './compose-session';
import type { Deployer, DeployerConfig } from './deployer';
import type { StackLocator } from './stack-locator';
import { decryptSecrets, stackRedactor } from './stack-secrets';
import { assertSwarmControl, runSwarmControl } from './swarm/swarm-control';
import { type CommandView, toCommandView } from './views';

export interface ControlRequest {
  command: ControlCommand;
  services?: string[];
  service?: string;
  replicas?: number;
}

export interface LifecycleDeps {
  db: Db;
  runner: CommandRunner;
  clock: Clock;
  secrets: SecretBox;
  redact: Redact;
  deployer: Deployer;
  changes: ChangeBus;
  locator: StackLocator;
  config: Pick<DeployerConfig, 'childEnv' | 'dockerBin'>;
  ids: (prefix: string) => string;
}

const MAX_OUTPUT = 64 * 1024;
/**
 * Service names and replicas reach compose's argv: checked here whoever calls (the api
 * validates the HTTP body with the contract's schema first, with the same messages).
 */
function assertControl(req: ControlRequest): void {
  if (req.command === 'scale') {
    if (!isServiceName(req.service))
      throw validation('scale needs "service": the name of one service', { field: 'service' });
    const n = req.replicas;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > 100)
      throw validation('scale needs "replicas": a whole number from 0 to 100', {
        field: 'replicas',
      });
  } else if (!(req.services ?? []).every(isServiceName)) {
    throw validation('services must be a list of service names', { field: 'services' });
  }
}

/** Start, stop, restart, pull, pause, unpause, scale, down and delete: each recorded in the stack's history. */
export function createLifecycle(deps: LifecycleDeps) {
  const { db, runner, clock, deployer, changes, locator } = deps;
  const docker = deps.config.dockerBin ?? 'docker';
  const now = () => clock.now().toISOString();

  function argsFor(req: ControlRequest): [string, string[]] {
    switch (req.command) {
      case 'start':
      case 'stop':
      case 'restart':
      case 'pull':
      case 'pause':
      case 'unpause':
        return [req.command, req.services ?? []];
      case 'down':
        return ['down', ['--remove-orphans']];
      case 'scale':
        return [
          'up',
          [
            '-d',
            '--no-deps',
            '--no-recreate',
            '--scale',
            `${req.service}=${req.replicas}`,
            req.service ?? '',
          ],
        ];
    }
  }

  async function runOnCurrent(stackId: string, eventId: string, req: ControlRequest) {
    // Read when the command runs, not when it was queued: a deploy ahead of it in the
    // stack's chain may have changed the current version.
    const stack = findStack(db, stackId);
    if (!stack) {
      updateCommand(db, eventId, {
        status: 'failed',
        output: 'the stack was deleted before the command ran',
      });
      return;
    }
    let redact = deps.redact;
    let session: ComposeSession | undefined;
    try {
      const secrets = decryptSecrets(stack, deps.secrets);
      redact = stackRedactor(secrets, deps.redact);
      const version = stack.currentVersionId
        ? getVersion(db, stack.id, stack.currentVersionId)
        : undefined;
      if (stack.engine === 'swarm') {
        // Swarm keeps the spec: no files, no gate; the command talks to the manager only.
        const res = await runSwarmControl(
          { runner, docker, env: await deployer.engineEnv(stack) },
          locator.projectOf(stack),
          req,
        );
        updateCommand(db, eventId, {
          status: res.exitCode === 0 ? 'succeeded' : 'failed',
          exitCode: res.exitCode,
          output: redact(res.output).slice(-MAX_OUTPUT),
        });
        return;
      }
      const [sub, extra] = argsFor(req);
      let args: string[];
      let cwd: string | undefined;
      let env = await deployer.engineEnv(stack);
      if (version) {
        session = await deployer.openSession(stack, secrets, version.state);
        // The files in the deploy dir can have changed since the deploy (a container writes
        // there): the command applies the model as compose reads it now, so judge it again.
        await deployer.gateSession(stack, session);
        cwd = session.dir;
        env = session.env;
        args = composeArgs(session.target, sub, extra);
      } else {
        args = composeProjectArgs(locator.projectOf(stack), sub, extra);
      }
      const res = await runner.run(docker, args, { env, ...(cwd ? { cwd } : {}) });
      const output = redact(`${res.stdout}${res.stderr}`).slice(-MAX_OUTPUT);
      updateCommand(db, eventId, {
        status: res.exitCode === 0 ? 'succeeded' : 'failed',
        exitCode: res.exitCode,
        output,
      });
    } catch (err) {
      updateCommand(db, eventId, {
        status: 'failed',
        output:
          err instanceof AppError
            ? redact(err.message)
            : 'the command could not run: check that the docker CLI is installed and the engine answers (GET /health)',
      });
    } finally {
      await session?.dispose();
      changes.emit({ type: 'stack', stackId: stack.id });
    }
  }

  return {
    /** The stack's lifecycle history, newest first. */
    history(stackIdOrName: string): CommandView[] {
      const stack = locator.requireStack(stackIdOrName);
      return listCommands(db, stack.id).map(toCommandView);
    },

    /** Queues a lifecycle command behind the stack's deployments; answers at once with its event. */
    control(stackIdOrName: string, req: ControlRequest): CommandView {
      assertControl(req);
      const stack = locator.requireStack(stackIdOrName);
      if (stack.engine === 'swarm') assertSwarmControl(req);
      if (req.command !== 'down' && !stack.currentVersionId) {
        throw conflict(`stack ${stack.name} has not been deployed yet; deploy it first`);
      }
      const detail: Record<string, unknown> = { command: req.command };
      if (req.services?.length) detail.services = req.services;
      if (req.command === 'scale')
        Object.assign(detail, { service: req.service, replicas: req.replicas });
      const event = insertCommand(db, {
        id: deps.ids('evt'),
        stackId: stack.id,
        kind: 'control',
        detail,
        status: 'queued',
        createdAt: now(),
      });
      void deployer.chain(stack.id, async () => {
        updateCommand(db, event.id, { status: 'running' });
        await runOnCurrent(stack.id, event.id, req);
      });
      return toCommandView(event);
    },
  };
}

export type Lifecycle = ReturnType<typeof createLifecycle>;
