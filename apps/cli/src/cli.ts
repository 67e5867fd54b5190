import { parseArgs } from 'node:util';
import { ApiError, type ClientOptions, createClient, type LogLine } from './client';

export interface Io {
  out: (text: string) => void;
  err: (text: string) => void;
  env: Record<string, string | undefined>;
  fetch?: typeof fetch;
}

const USAGE = `simpledeploy — talk to a simpledeploy server from a terminal or a CI pipeline

Usage:
  simpledeploy stacks
  simpledeploy deploy <stack> [--ref <branch|tag|sha>] [--force] [--no-follow | --wait]
  simpledeploy rollback <stack> [--version <id>] [--no-follow]
  simpledeploy cancel <stack>
  simpledeploy logs <deployment-id> [--follow]
  simpledeploy history <stack>
  simpledeploy whoami

Options:
  --url <url>   server URL (env SIMPLEDEPLOY_URL, default http://127.0.0.1:8000)
  --key <key>   API key (env SIMPLEDEPLOY_API_KEY); for CI, a deployer key limited to
                the stacks the pipeline deploys
  --json        print JSON instead of text

deploy and rollback follow the log and exit 0 only when the deployment succeeded;
deploy --wait prints no log: the server holds the answer until the deployment ends.`;

const formatLine = (l: LogLine) =>
  `${l.stream === 'stderr' ? '!' : l.stream === 'system' ? '>' : ' '} ${l.text}`;

/** Runs one command; resolves with the process exit code. */
export async function runCli(argv: string[], io: Io): Promise<number> {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (e) {
    io.err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, target] = positionals;
  if (values.help || !command) {
    io.out(USAGE);
    return command || values.help ? 0 : 2;
  }
  const apiKey = values.key ?? io.env.SIMPLEDEPLOY_API_KEY ?? io.env.API_KEY;
  if (!apiKey) {
    io.err('no API key: pass --key or set SIMPLEDEPLOY_API_KEY');
    return 2;
  }
  const opts: ClientOptions = {
    url: values.url ?? io.env.SIMPLEDEPLOY_URL ?? 'http://127.0.0.1:8000',
    apiKey,
  };
  if (io.fetch) opts.fetch = io.fetch;
  const client = createClient(opts);
  const json = (v: unknown) => io.out(JSON.stringify(v, null, 2));
  const needTarget = (what: string) => {
    if (!target) throw new UsageError(`${command} needs ${what}`);
    return target;
  };

  /** Follows to the end and turns the status into an exit code. */
  const followToEnd = async (id: string) => {
    const status = await client.follow(id, (l) => {
      if (!values.json) io.out(formatLine(l));
    });
    const { deployment } = await client.deployment(id);
    if (values.json) json(deployment);
    else io.out(`deployment ${id} ${status}${deployment.error ? `: ${deployment.error}` : ''}`);
    return status === 'succeeded' ? 0 : 1;
  };

  try {
    switch (command) {
      case 'stacks': {
        const { stacks } = await client.listStacks();
        if (values.json) json(stacks);
        else
          for (const s of stacks)
            io.out(
              `${s.name}\t${s.status}\t${s.last_deployment?.status ?? '-'}\t${s.deployed_commit?.slice(0, 12) ?? '-'}`,
            );
        return 0;
      }
      case 'deploy': {
        const body: { ref?: string; force?: boolean } = {};
        if (values.ref) body.ref = values.ref;
        if (values.force) body.force = true;
        const stack = needTarget('a stack name');
        if (values.wait) {
          // The server answers once the deployment ended: 200, or 422 (an ApiError) when it failed.
          const { deployment } = await client.deploy(stack, body, { wait: true });
          if (values.json) json(deployment);
          else io.out(`deployment ${deployment.id} ${deployment.status}`);
          return 0;
        }
        const { deployment, coalesced } = await client.deploy(stack, body);
        if (!values.json)
          io.out(
            `deployment ${deployment.id} ${coalesced ? 'joined the one already queued' : 'queued'}`,
          );
        if (values['no-follow']) {
          if (values.json) json(deployment);
          return 0;
        }
        return await followToEnd(deployment.id);
      }
      case 'rollback': {
        const { deployment } = await client.rollback(needTarget('a stack name'), values.version);
        if (!values.json) io.out(`rollback ${deployment.id} queued`);
        if (values['no-follow']) return 0;
        return await followToEnd(deployment.id);
      }
      case 'cancel': {
        const { deployment } = await client.cancel(needTarget('a stack name'));
        if (values.json) json(deployment);
        else io.out(`canceling deployment ${deployment.id}`);
        return 0;
      }
      case 'logs': {
        const id = needTarget('a deployment id');
        if (values.follow) return await followToEnd(id);
        const { deployment } = await client.deployment(id);
        if (values.json) json(deployment.log);
        else for (const l of deployment.log) io.out(formatLine(l));
        return 0;
      }
      case 'history': {
        const { deployments } = await client.deployments(needTarget('a stack name'));
        if (values.json) json(deployments);
        else
          for (const d of deployments)
            io.out(
              `${d.queued_at}\t${d.id}\t${d.trigger}\t${d.status}${d.error ? `\t${d.error}` : ''}`,
            );
        return 0;
      }
      case 'whoami': {
        const { key } = await client.self();
        if (values.json) json(key);
        else
          io.out(
            `${key.name}\t${key.role}\t${key.stacks.length ? key.stacks.join(',') : 'all stacks'}`,
          );
        return 0;
      }
      default:
        throw new UsageError(`unknown command "${command}"`);
    }
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`${e.message}\n\n${USAGE}`);
      return 2;
    }
    if (e instanceof ApiError) {
      io.err(`error: ${e.message} (${e.code}, HTTP ${e.status})`);
      return 1;
    }
    io.err(`error: cannot reach ${opts.url}: ${(e as Error).message}`);
    return 1;
  }
}

class UsageError extends Error {}

function parse(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      ref: { type: 'string' },
      version: { type: 'string' },
      force: { type: 'boolean' },
      follow: { type: 'boolean' },
      'no-follow': { type: 'boolean' },
      wait: { type: 'boolean' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
