// listen() in an APP, taken over the way node's cluster does it: every TCP listen() of a
// net/http/https/http2 server asks the supervisor for that port's dispatch, and the server gets
// the worker's share of it. reuseport: it listens on its slot's SO_REUSEPORT socket; shared: on
// the supervisor's one socket (the supervisor binds both); handoff: it never listens, it gets a stand-in handle (as cluster's
// round-robin workers do) that answers address() and receives the connections the supervisor
// passes. Unix sockets and listen(handle|fd) are left alone.
import net from 'node:net';
import { HerdError } from '../errors.ts';
import type { SupervisorMessage } from '../supervisor/messages.ts';
import type { HandoffReceiver } from '../dispatch/handoff.ts';
import type { RawListenHandle, ReceivedHandle } from '../dispatch/raw_listen_handle.ts';

export type ListenReply = Extract<SupervisorMessage, { t: 'listen-reply' }>;

export interface ListenTakeover {
  /** Asks the supervisor to serve host:port; resolves with its reply (and the handle, shared). */
  ask(host: string, port: number): Promise<{ reply: ListenReply; handle: ReceivedHandle | undefined }>;
  /** Where an app's listen() without a host is served: herd's --host. */
  defaultHost: string;
  backlog: number;
  /** An app's server is listening on its share of `port`. */
  onListening(server: net.Server, port: number): void;
  /** handoff: where the connections for an APP's port arrive (a stand-in handle's onconnection). */
  handoff: HandoffReceiver;
}

type Listen = (this: net.Server, ...args: unknown[]) => net.Server;
const originalListen = net.Server.prototype.listen as Listen;
// node's own argument parser for listen()/connect(), as http and tls use it; not in the typings.
const normalizeArgs = (net as unknown as { _normalizeArgs(args: unknown[]): [Record<string, unknown>, ((...a: unknown[]) => void) | null] })._normalizeArgs;

/** Servers herd itself listens with (the node or fast engine's, for a default-export APP). */
const herdOwned = new WeakSet<net.Server>();
export function listenAsHerd(server: net.Server): void {
  herdOwned.add(server);
}

let listenCalls = 0;
/** How many TCP listen() calls the APP made so far. */
export function appListenCalls(): number {
  return listenCalls;
}

export function takeOverListen(takeover: ListenTakeover): void {
  net.Server.prototype.listen = function listen(this: net.Server, ...args: unknown[]): net.Server {
    if (herdOwned.has(this)) return originalListen.apply(this, args);
    const [options, callback] = normalizeArgs(args);
    const target = (options._handle ?? options.handle ?? options) as Record<string, unknown>;
    const port = tcpPort(options, args);
    // A handle, an fd, a Unix socket path, an already listening server, bad arguments: node's own.
    if (port === undefined || target !== options || typeof options.fd === 'number' || (this as { _handle?: unknown })._handle) {
      return originalListen.apply(this, args);
    }
    listenCalls++;
    if (callback) this.once('listening', callback);
    const host = typeof options.host === 'string' && options.host !== '' ? options.host : takeover.defaultHost;
    const backlog = typeof options.backlog === 'number' ? options.backlog : takeover.backlog;
    takeover.ask(host, port).then(({ reply, handle }) => {
      if (reply.error) {
        this.emit('error', new HerdError(reply.error.message, reply.error.code));
        return;
      }
      this.once('listening', () => takeover.onListening(this, reply.port));
      switch (reply.mode) {
        // reuseport: the slot's own socket for this port; shared: the one socket. The supervisor bound both.
        case 'reuseport':
        case 'shared':
          originalListen.call(this, handle as RawListenHandle, backlog);
          return;
        case 'handoff':
          takeover.handoff.listenOnStandIn(this, reply.host, reply.port, backlog);
          return;
      }
    }, (err: unknown) => this.emit('error', err));
    return this;
  } as typeof net.Server.prototype.listen;
}

/** The TCP port a listen() asks for (0: any), or undefined when it is not a TCP listen. */
function tcpPort(options: Record<string, unknown>, args: unknown[]): number | undefined {
  if (typeof options.path === 'string') return undefined;
  const port = options.port;
  if (args.length === 0 || typeof args[0] === 'function' || port === null || (port === undefined && 'port' in options)) return 0;
  if (typeof port === 'number' && Number.isInteger(port) && port >= 0 && port < 65536) return port;
  if (typeof port === 'string' && /^\d+$/.test(port) && Number(port) < 65536) return Number(port);
  return undefined;
}
