// handoff: the supervisor accepts and passes each connection's descriptor to one worker, by
// round-robin or least-connections. No herd; one IPC hop per connection, and the supervisor
// becomes the bottleneck at high connection rates (the seed's experiment 6, node cluster's SCHED_RR).
//
// The supervisor never reads a byte: it accepts on a bare handle (no net.Socket per connection)
// and sends the descriptor. It keeps its own copy until the worker replies that it took the
// connection, as node's cluster does: a descriptor written into the pipe of a worker that dies
// before reading it would otherwise be closed by the kernel, and its client reset. Whatever a dead
// worker never answered for, or a draining one declined, goes to another worker.
import type { ServeConfig } from '../config.ts';
import type { WorkerProcess } from '../supervisor/worker_process.ts';
import type { Dispatch, ListenAddress } from './dispatch.ts';
import { adoptListeningFd, bindRawHandle, boundAddress, boundPort, listenRaw, type RawConnectionHandle } from './raw_listen_handle.ts';
import { clientAddressHash } from './client_address.ts';

export async function openHandoff(config: ServeConfig, at: ListenAddress): Promise<Dispatch> {
  const workers: WorkerProcess[] = [];
  // Per worker, the connections sent and not yet answered for, oldest first (replies come in order).
  const unanswered = new Map<WorkerProcess, RawConnectionHandle[]>();
  // Connections that arrive while no worker can take them (the only one is respawning) wait here.
  const waiting: RawConnectionHandle[] = [];
  let closed = false;
  let next = 0;

  const pick = (connection: RawConnectionHandle): WorkerProcess => {
    if (config.handoff === 'sticky') {
      // By slot, not by position in `workers`: a client keeps its worker's slot across a respawn
      // or a reload (its sessions are gone with the old process, but its next ones stay together).
      const slot = (clientAddressHash(connection) % config.workers) + 1;
      return workers.find((w) => w.id === slot) ?? workers[clientAddressHash(connection) % workers.length];
    }
    if (config.handoff === 'least') {
      let best = workers[0];
      for (const w of workers) if (w.openHandedOff < best.openHandedOff) best = w;
      return best;
    }
    next = (next + 1) % workers.length;
    return workers[next];
  };

  const handOff = (connection: RawConnectionHandle): void => {
    // A worker whose channel is gone (killed, its exit not yet seen) leaves the rotation here.
    while (workers.length > 0) {
      const worker = pick(connection);
      if (worker.send({ t: 'connection', port }, connection)) {
        worker.handedOff++;
        unanswered.get(worker)!.push(connection);
        return;
      }
      workers.splice(workers.indexOf(worker), 1);
    }
    waiting.push(connection);
  };

  const track = (worker: WorkerProcess): void => {
    if (unanswered.has(worker)) return;
    const sent: RawConnectionHandle[] = [];
    unanswered.set(worker, sent);
    worker.onHandoffReply.set(port, (taken) => {
      const connection = sent.shift();
      if (!connection) return;
      if (taken) connection.close();
      else {
        worker.closedReported++;
        handOff(connection);
      }
    });
    // A dead worker's last replies may be read in the same turn of the loop as its exit: they are
    // handled before the check phase. (Not on 'disconnect': node defers it while a descriptor it
    // sent waits for the dead worker's acknowledgement, which never comes.)
    void worker.exited.then(() => setImmediate(() => {
      unanswered.delete(worker);
      const i = workers.indexOf(worker);
      if (i >= 0) workers.splice(i, 1);
      for (const connection of sent.splice(0)) {
        if (closed) connection.close();
        else handOff(connection);
      }
    }));
  };

  // systemd's socket (LISTEN_FDS) is listening already; listen() again only sets the backlog.
  const handle = at.fd !== undefined ? adoptListeningFd(at.fd) : await bindRawHandle(at.host, at.port);
  const port = boundPort(handle);
  listenRaw(handle, config.backlog, at.host, port);
  handle.onconnection = (status, connection) => {
    // A failed accept (EMFILE...) is retried by libuv on the next readiness event.
    if (status === 0 && connection) handOff(connection);
  };

  return {
    mode: 'handoff',
    host: at.fd !== undefined ? boundAddress(handle) : at.host,
    port,
    queued: () => waiting.length + [...unanswered.values()].reduce((sum, sent) => sum + sent.length, 0),
    handleForWorker: () => undefined,
    add(worker) {
      track(worker);
      if (!workers.includes(worker)) workers.push(worker);
      while (waiting.length > 0 && workers.length > 0) handOff(waiting.shift()!);
    },
    remove(worker) {
      const i = workers.indexOf(worker);
      if (i >= 0) workers.splice(i, 1);
    },
    close() {
      closed = true;
      handle.close();
      for (const connection of waiting.splice(0)) connection.close();
      for (const sent of unanswered.values()) for (const connection of sent.splice(0)) connection.close();
    },
  };
}
