// The lab's servers listen on one port, picked free before the run or given with --port.
import net from 'node:net';
import { describeListenError } from '../errors.ts';

function tryListen(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host, port, exclusive: true }, () => {
      const bound = (server.address() as net.AddressInfo).port;
      server.close(() => resolve(bound));
    });
  });
}

/** A port nothing listens on right now (the kernel picks it). */
export function freePort(host: string): Promise<number> {
  return tryListen(host, 0);
}

/** Throws a one-line HerdError when something already listens on host:port. */
export async function assertPortFree(host: string, port: number): Promise<void> {
  try {
    await tryListen(host, port);
  } catch (err) {
    throw describeListenError(err as NodeJS.ErrnoException, host, port);
  }
}
