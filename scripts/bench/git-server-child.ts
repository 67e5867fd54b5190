import { startGitServer } from '@simpledeploy/testing';

/**
 * A test git server in its own process, so a bench that measures the CPU of the
 * process under test does not count the server's own request handling. Prints
 * one JSON line (url, root, username, password) and serves until stdin closes.
 */
async function main() {
  const username = process.env.GIT_SERVER_USER ?? 'bench';
  const password = process.env.GIT_SERVER_PASSWORD ?? 'bench';
  const server = await startGitServer({ username, password });
  process.stdout.write(`${JSON.stringify({ url: server.url, root: server.root })}\n`);
  process.stdin.resume();
  process.stdin.on('end', () => void server.close().then(() => process.exit(0)));
}

void main();
