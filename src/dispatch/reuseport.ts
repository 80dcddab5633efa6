// reuseport: every worker binds its own SO_REUSEPORT socket and the kernel hashes connections
// across them. No herd, no extra hop. The supervisor holds no socket, so a closing listener's
// queued connections are reset unless net.ipv4.tcp_migrate_req=1 moves them to a sibling.
import net from 'node:net';
import type { ServeConfig } from '../config.ts';
import { describeListenError } from '../errors.ts';
import type { Dispatch } from './dispatch.ts';

export async function openReuseport(config: ServeConfig): Promise<Dispatch> {
  // SO_REUSEPORT lets a second server of the same user share the port silently. Probe with an
  // exclusive bind first so "port in use" is an error, as it is for the other modes; the probe
  // also turns port 0 into the one port all workers will share.
  const port = await probeFreePort(config.host, config.port);
  return {
    mode: 'reuseport',
    host: config.host,
    port,
    handleForWorker: () => undefined,
    add() {},
    remove() {},
    close() {},
  };
}

function probeFreePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(describeListenError(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(bound));
    });
  });
}
