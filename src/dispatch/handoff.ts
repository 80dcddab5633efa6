// handoff: the supervisor accepts and passes each connection's descriptor to one worker, by
// round-robin or least-connections. No herd; one IPC hop per connection, and the supervisor
// becomes the bottleneck at high connection rates (the seed's experiment 6, node cluster's SCHED_RR).
import net from 'node:net';
import type { ServeConfig } from '../config.ts';
import { describeListenError } from '../errors.ts';
import type { WorkerProcess } from '../supervisor/worker_process.ts';
import type { Dispatch } from './dispatch.ts';

export async function openHandoff(config: ServeConfig): Promise<Dispatch> {
  const workers: WorkerProcess[] = [];
  // Connections that arrive while no worker is ready (the only one is respawning) wait here.
  const waiting: net.Socket[] = [];
  let next = 0;

  const pick = (): WorkerProcess => {
    if (config.handoff === 'least') {
      let best = workers[0];
      for (const w of workers) if (w.openHandedOff < best.openHandedOff) best = w;
      return best;
    }
    next = (next + 1) % workers.length;
    return workers[next];
  };

  const handOff = (socket: net.Socket): void => {
    if (workers.length === 0) {
      waiting.push(socket);
      socket.once('close', () => waiting.includes(socket) && waiting.splice(waiting.indexOf(socket), 1));
      return;
    }
    const worker = pick();
    worker.handedOff++;
    const sent = worker.send({ t: 'connection' }, socket, (err) => {
      if (err) {
        worker.closedReported++;
        socket.destroy();
      }
    });
    if (!sent) {
      worker.closedReported++;
      socket.destroy();
    }
  };

  // pauseOnConnect: bytes the supervisor read would not travel with the handle.
  const server = net.createServer({ pauseOnConnect: true }, handOff);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(describeListenError(err, config.host, config.port)));
    server.listen({ host: config.host, port: config.port, backlog: config.backlog, exclusive: true }, resolve);
  });
  server.on('error', (err) => console.error(`herd: accept failed: ${err.message}`));

  return {
    mode: 'handoff',
    host: config.host,
    port: (server.address() as net.AddressInfo).port,
    handleForWorker: () => undefined,
    add(worker) {
      if (!workers.includes(worker)) workers.push(worker);
      while (waiting.length > 0) handOff(waiting.shift()!);
    },
    remove(worker) {
      const i = workers.indexOf(worker);
      if (i >= 0) workers.splice(i, 1);
    },
    close() {
      server.close();
      for (const socket of waiting.splice(0)) socket.destroy();
    },
  };
}
