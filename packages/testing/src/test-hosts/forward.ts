import { connect, createServer, type Socket } from 'node:net';

/** A TCP listener on the hosts' gateway address that relays to a port on 127.0.0.1. */
export interface Forward {
  /** `<gateway>:<port>`: how the test hosts reach the target. */
  address: string;
  port: number;
  close(): Promise<void>;
}

/**
 * Listens on `bindAddress` (the test network's gateway, never 0.0.0.0) and relays each
 * connection byte for byte to `127.0.0.1:targetPort`. The hosts see this machine only at
 * the gateway; servers started by tests stay bound to loopback.
 */
export function forwardToLoopback(bindAddress: string, targetPort: number): Promise<Forward> {
  const sockets = new Set<Socket>();
  const server = createServer((inbound) => {
    const outbound = connect(targetPort, '127.0.0.1');
    for (const socket of [inbound, outbound]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => {
        inbound.destroy();
        outbound.destroy();
      });
    }
    inbound.pipe(outbound);
    outbound.pipe(inbound);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, bindAddress, () => {
      server.off('error', reject);
      const listening = server.address();
      const port = typeof listening === 'object' && listening ? listening.port : 0;
      resolve({
        address: `${bindAddress}:${port}`,
        port,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
