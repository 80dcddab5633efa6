// handoff: the supervisor accepts and passes each connection's descriptor to one worker, by
// round-robin or least-connections. No herd; one IPC hop per connection, and the supervisor
// becomes the bottleneck at high connection rates (the seed's experiment 6, node cluster's SCHED_RR).
//
// The supervisor never reads a byte: it accepts on a bare handle (no net.Socket per connection)
// and sends the descriptor. It keeps its own copy until the worker replies that it took the
// connection, as node's cluster does: a descriptor written into the pipe of a worker that dies
// before reading it would otherwise be closed by the kernel, and its client reset. Whatever a dead
// worker never answered for, or a draining one declined, goes to another worker.
import net from 'node:net';
import type { ServeConfig } from '../config.ts';
import type { WorkerMessage } from '../supervisor/messages.ts';
import type { WorkerProcess } from '../supervisor/worker_process.ts';
import type { Dispatch, ListenAddress } from './dispatch.ts';
import { adoptListeningFd, bindRawHandle, boundAddress, boundPort, listenRaw, socketOnHandle, type RawConnectionHandle } from './raw_listen_handle.ts';
import { clientAddressHash } from './client_address.ts';
import { headerReadFor, readHeaderBeforeHandoff } from '../transport/proxy_handoff.ts';
import { runsAtAccept } from '../transport/connection_front.ts';

/** What the supervisor knows of one worker's handed-off connections. */
interface Handed {
  /** Sent and not yet answered for, oldest first (replies come in order). */
  readonly unanswered: RawConnectionHandle[];
  /** Sent in all, and reported closed by the worker (least-connections reads the difference). */
  sent: number;
  closed: number;
}

export async function openHandoff(config: ServeConfig, at: ListenAddress): Promise<Dispatch> {
  const workers: WorkerProcess[] = [];
  const handed = new Map<WorkerProcess, Handed>();
  // Connections that arrive while no worker can take them (the only one is respawning) wait here.
  const waiting: RawConnectionHandle[] = [];
  let closed = false;
  let next = 0;

  const open = (worker: WorkerProcess): number => {
    const h = handed.get(worker);
    return h ? h.sent - h.closed : 0;
  };

  const pick = (connection: RawConnectionHandle): WorkerProcess => {
    if (config.handoff === 'sticky') {
      // By slot, not by position in `workers`: a client keeps its worker's slot across a respawn
      // or a reload (its sessions are gone with the old process, but its next ones stay together).
      const slot = (clientAddressHash(connection) % config.workers) + 1;
      return workers.find((w) => w.slot === slot) ?? workers[clientAddressHash(connection) % workers.length];
    }
    if (config.handoff === 'least') {
      let best = workers[0];
      for (const w of workers) if (open(w) < open(best)) best = w;
      return best;
    }
    next = (next + 1) % workers.length;
    return workers[next];
  };

  const handOff = (connection: RawConnectionHandle): void => {
    // A worker whose channel is gone (killed, its exit not yet seen) leaves the rotation here.
    while (workers.length > 0) {
      const worker = pick(connection);
      const h = handed.get(worker)!;
      if (worker.send({ t: 'connection', port, proxied: headerReadFor(connection) }, connection)) {
        h.sent++;
        h.unanswered.push(connection);
        return;
      }
      workers.splice(workers.indexOf(worker), 1);
    }
    waiting.push(connection);
  };

  const track = (worker: WorkerProcess): void => {
    if (handed.has(worker)) return;
    const h: Handed = { unanswered: [], sent: 0, closed: 0 };
    handed.set(worker, h);
    worker.onHandoffReply.set(port, (taken) => {
      const connection = h.unanswered.shift();
      if (!connection) return;
      if (taken) connection.close();
      else {
        h.closed++;
        // Declined after the stop began: nobody takes it any more.
        if (closed) connection.close();
        else handOff(connection);
      }
    });
    worker.onClosed.add((count) => (h.closed += count));
  };

  // systemd's socket (LISTEN_FDS) is listening already; listen() again only sets the backlog.
  const handle = at.fd !== undefined ? adoptListeningFd(at.fd) : await bindRawHandle(at.host, at.port);
  const port = boundPort(handle);
  listenRaw(handle, config.backlog, at.host, port);
  handle.onconnection = (status, connection) => {
    // A failed accept (EMFILE...) is retried by libuv on the next readiness event.
    if (status !== 0 || !connection) return;
    // sticky behind a PROXY-protocol balancer: the client is in the header, so read it first.
    if (config.proxyProtocol && config.handoff === 'sticky') readHeaderBeforeHandoff(connection, config.headersTimeoutMs, handOff);
    else handOff(connection);
  };

  const remove = (worker: WorkerProcess): void => {
    const i = workers.indexOf(worker);
    if (i >= 0) workers.splice(i, 1);
  };

  return {
    mode: 'handoff',
    host: at.fd !== undefined ? boundAddress(handle) : at.host,
    port,
    sockets: [handle],
    queued: () => waiting.length + [...handed.values()].reduce((sum, h) => sum + h.unanswered.length, 0),
    shareFor: () => ({ mode: 'handoff', handle: undefined }),
    add(worker) {
      track(worker);
      if (!workers.includes(worker)) workers.push(worker);
      while (waiting.length > 0 && workers.length > 0) handOff(waiting.shift()!);
    },
    remove,
    gone(worker) {
      remove(worker);
      const h = handed.get(worker);
      if (!h) return;
      // A dead worker's last replies may be read in the same turn of the loop as its exit: they are
      // handled before the check phase. (Not on 'disconnect': node defers it while a descriptor it
      // sent waits for the dead worker's acknowledgement, which never comes.)
      setImmediate(() => {
        handed.delete(worker);
        for (const connection of h.unanswered.splice(0)) {
          if (closed) connection.close();
          else handOff(connection);
        }
      });
    },
    close() {
      closed = true;
      handle.close();
      for (const connection of waiting.splice(0)) connection.close();
      // Not what was sent and is not answered for yet: node may not have written its descriptor to
      // the worker's pipe yet (it waits for the previous one's acknowledgement), and a descriptor
      // closed before it is written never arrives: a reset client. The answer closes our copy, or
      // the worker's exit does (gone).
    },
  };
}

// ── the worker's half ─────────────────────────────────────────────────────────────────────────

/**
 * Receives the connections the supervisor hands to this worker, per port, and answers for each
 * (`handoff-reply`) before the socket reads a byte, so a connection the supervisor gives to another
 * worker (declined, or this one died before replying) was never read here. Counts the handed-off
 * connections that close, for least-connections.
 */
export class HandoffReceiver {
  readonly #send: (message: WorkerMessage) => void;
  readonly #targets = new Map<number, (connection: RawConnectionHandle) => void>();
  #stopped = false;
  #closedSinceReport = 0;
  #closedTimer: NodeJS.Timeout | undefined;

  constructor(send: (message: WorkerMessage) => void) {
    this.#send = send;
  }

  /** Connections for `port` become `server`'s: as a net.Socket emitted as 'connection' (the engines take them so). */
  serve(port: number, server: net.Server): void {
    this.#targets.set(port, (connection) => {
      const socket = socketOnHandle(connection);
      socket.once('close', () => this.closed());
      server.emit('connection', socket);
    });
  }

  /**
   * An APP's own server: it listens on a stand-in handle, as a cluster worker's does under
   * round-robin: node's setupListenHandle finds a handle already there, wires its onconnection, and
   * emits 'listening'; address() reads getsockname; close() closes the stand-in.
   */
  listenOnStandIn(server: net.Server, host: string, port: number, backlog: number): void {
    const family = net.isIPv6(host) ? 'IPv6' : 'IPv4';
    const address = net.isIP(host) ? host : family === 'IPv6' ? '::1' : '127.0.0.1';
    let open = true;
    const standIn: StandInHandle = {
      onconnection: null,
      listen: () => 0,
      getsockname(out) {
        Object.assign(out, { address, family, port });
        return 0;
      },
      ref() {},
      unref() {},
      close() {
        open = false;
      },
    };
    const s = server as net.Server & { _handle: StandInHandle | null; _listen2(address: string, port: number, addressType: number, backlog: number): void };
    s._handle = standIn;
    s._listen2(address, port, family === 'IPv6' ? 6 : 4, backlog);
    // At accept, before a PROXY header or TLS handshake is read (connection_front.ts).
    server.on('connection', runsAtAccept((socket: net.Socket) => socket.once('close', () => this.closed())));
    this.#targets.set(port, (connection) => {
      if (open && standIn.onconnection) standIn.onconnection(0, connection);
      else connection.close();
    });
  }

  /** One `connection` message, with its descriptor (absent if it was lost on the way). */
  accept(port: number, connection: RawConnectionHandle | undefined): void {
    const deliver = this.#targets.get(port);
    // Replies are matched to connections by order, so every message gets one, even without a handle.
    const taken = connection !== undefined && deliver !== undefined && !this.#stopped;
    this.#send({ t: 'handoff-reply', port, taken });
    if (!connection) return;
    // Declined: closing our copy leaves the connection open, the supervisor holds another.
    if (!taken) connection.close();
    else deliver!(connection);
  }

  /** Draining: every later connection is declined, and goes to another worker. */
  stop(): void {
    this.#stopped = true;
    this.#targets.clear();
  }

  /** Closed connections not reported yet (sent with the worker's last message). */
  takeUnreported(): number {
    if (this.#closedTimer) clearTimeout(this.#closedTimer);
    this.#closedTimer = undefined;
    const count = this.#closedSinceReport;
    this.#closedSinceReport = 0;
    return count;
  }

  closed(): void {
    this.#closedSinceReport++;
    this.#closedTimer ??= setTimeout(() => this.#send({ t: 'closed', count: this.takeUnreported() }), 10);
  }
}

interface StandInHandle {
  onconnection: ((status: number, handle: RawConnectionHandle) => void) | null;
  listen(): number;
  getsockname(out: Record<string, unknown>): number;
  ref(): void;
  unref(): void;
  close(): void;
}
