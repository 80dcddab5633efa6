// handoff: the supervisor accepts and passes each connection's descriptor to one worker, by
// round-robin or least-connections. No herd; one IPC hop per connection, and the supervisor
// becomes the bottleneck at high connection rates (the seed's experiment 6, node cluster's SCHED_RR).
//
// The supervisor never reads a byte: it accepts on a bare handle (no net.Socket per connection),
// sends the descriptor, and closes its copy once the message is written.
import type { ServeConfig } from '../config.ts';
import type { WorkerProcess } from '../supervisor/worker_process.ts';
import type { Dispatch } from './dispatch.ts';
import { bindRawHandle, boundPort, listenRaw, type RawConnectionHandle } from './raw_listen_handle.ts';

export async function openHandoff(config: ServeConfig): Promise<Dispatch> {
  const workers: WorkerProcess[] = [];
  // Connections that arrive while no worker is ready (the only one is respawning) wait here.
  const waiting: RawConnectionHandle[] = [];
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

  const handOff = (connection: RawConnectionHandle): void => {
    if (workers.length === 0) {
      waiting.push(connection);
      return;
    }
    const worker = pick();
    worker.handedOff++;
    const sent = worker.send({ t: 'connection' }, connection, (err) => {
      // Written (the descriptor is in flight, owned by the kernel) or failed: our copy goes.
      if (err) worker.closedReported++;
      connection.close();
    });
    if (!sent) {
      worker.closedReported++;
      connection.close();
    }
  };

  const handle = await bindRawHandle(config.host, config.port);
  const port = boundPort(handle);
  listenRaw(handle, config.backlog, config.host, port);
  handle.onconnection = (status, connection) => {
    // A failed accept (EMFILE...) is retried by libuv on the next readiness event.
    if (status === 0 && connection) handOff(connection);
  };

  return {
    mode: 'handoff',
    host: config.host,
    port,
    handleForWorker: () => undefined,
    add(worker) {
      if (!workers.includes(worker)) workers.push(worker);
      while (waiting.length > 0 && workers.length > 0) handOff(waiting.shift()!);
    },
    remove(worker) {
      const i = workers.indexOf(worker);
      if (i >= 0) workers.splice(i, 1);
    },
    close() {
      handle.close();
      for (const connection of waiting.splice(0)) connection.close();
    },
  };
}
