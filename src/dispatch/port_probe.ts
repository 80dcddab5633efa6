// An exclusive test bind, so that "port in use" is reported by the supervisor before any worker
// starts, and port 0 becomes one concrete port that every worker can share.
import net from 'node:net';
import { describeListenError } from '../errors.ts';

export function probeFreePort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => reject(describeListenError(err, host, port)));
    probe.listen({ host, port, exclusive: true }, () => {
      const bound = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(bound));
    });
  });
}
