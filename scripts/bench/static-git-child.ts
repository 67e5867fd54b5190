import { createServer } from 'node:http';

/**
 * A stand-in git server in its own process that answers every ref listing with the same
 * bytes after a fixed delay (what a remote host's round trip looks like), without
 * spawning git: the floor of one poll's CPU on this machine, for the polling bench.
 */
const pkt = (s: string) => `${(Buffer.byteLength(s) + 4).toString(16).padStart(4, '0')}${s}`;
const oid = process.env.STATIC_OID ?? 'a'.repeat(40);
const delayMs = Number(process.env.STATIC_DELAY_MS ?? 25);
const caps = `${pkt('# service=git-upload-pack\n')}0000${pkt('version 2\n')}${pkt('ls-refs\n')}0000`;
const refs = `${pkt(`${oid} refs/heads/main\n`)}0000`;

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    setTimeout(() => {
      const discovery = req.method === 'GET';
      res.writeHead(200, {
        'content-type': discovery
          ? 'application/x-git-upload-pack-advertisement'
          : 'application/x-git-upload-pack-result',
      });
      res.end(discovery ? caps : refs);
    }, delayMs);
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`${JSON.stringify({ url: `http://127.0.0.1:${port}` })}\n`);
});
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
