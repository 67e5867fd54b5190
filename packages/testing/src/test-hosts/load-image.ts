import { spawn } from 'node:child_process';

function withEnv(env: Record<string, string | undefined>): NodeJS.ProcessEnv {
  const merged: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete merged[key];
    else merged[key] = value;
  }
  return merged;
}

/**
 * Copies an image of this machine's engine into another engine: `docker save <ref>` piped
 * straight into `docker load` run with `targetEnv` (DOCKER_HOST and TLS of a test host).
 * Two child processes joined by a pipe, no shell.
 */
export function loadImage(
  target: { dockerEnv: Record<string, string | undefined> },
  ref: string,
): Promise<void> {
  const save = spawn('docker', ['save', ref], { stdio: ['ignore', 'pipe', 'pipe'] });
  const load = spawn('docker', ['load', '--quiet'], {
    stdio: ['pipe', 'ignore', 'pipe'],
    env: withEnv(target.dockerEnv),
  });
  const errors: Buffer[] = [];
  save.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  load.stderr.on('data', (chunk: Buffer) => errors.push(chunk));
  // If load dies early, save gets EPIPE: its exit code reports it, not an exception here.
  load.stdin.on('error', () => {});
  save.stdout.pipe(load.stdin);
  const exited = (child: ReturnType<typeof spawn>) =>
    new Promise<number>((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve(code ?? 1));
    });
  return Promise.all([exited(save), exited(load)]).then(([saved, loaded]) => {
    if (saved === 0 && loaded === 0) return;
    const output = Buffer.concat(errors).toString('utf8').trim();
    throw new Error(`docker save ${ref} (exit ${saved}) | docker load (exit ${loaded}): ${output}`);
  });
}
