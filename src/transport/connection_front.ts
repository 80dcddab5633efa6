// What comes before HTTP on a worker's connections, put in front of an engine's server: the
// PROXY header (--proxy-protocol), then, for the fast engine, the TLS handshake. The front is the
// server the dispatch listens on or hands connections to; each connection reaches the engine's
// server once those steps are done: as a 'connection' of its own after a PROXY header alone, as a
// bare TLS handle (handOverHandle) past its handshake. Without either step the engine's server is
// used as it is (the fast engine then keeps accepting bare handles).
import net from 'node:net';
import tls from 'node:tls';
import type { ServeConfig } from '../config.ts';
import type { NodeTransport } from './node_server.ts';
import { readProxyHeader } from './proxy_header.ts';
import { readTlsCredentials } from './tls_credentials.ts';
import { TlsHandshakes } from './tls_handshake.ts';
import { terminateTls } from './tls_termination.ts';
import { requireTlsBinding } from '../uv/binding.ts';
import { acceptHandles, handOverHandle } from '../uv/stream_handle.ts';

export interface FrontSteps {
  proxyProtocol: boolean;
  /** TLS the front terminates (the fast engine's); null: none, or the engine's server does it. */
  tls: tls.SecureContext | null;
  /** Bound on the PROXY header and on the handshake: the slowloris bound of a request head. */
  timeoutMs: number;
}

export interface ConnectionFront {
  /** What the dispatch listens on or hands connections to. */
  readonly server: net.Server;
  /**
   * Resolves once no accepted connection is still in its header or handshake (each has gone on to
   * the engine, or closed). A drain waits for this before draining the engine, so a connection
   * accepted before the drain is served, not closed as idle.
   */
  settled(): Promise<void>;
}

export function connectionFront(target: net.Server, steps: FrontSteps): ConnectionFront {
  if (!steps.proxyProtocol && steps.tls === null) return { server: target, settled: () => Promise.resolve() };
  const front = net.createServer({ allowHalfOpen: true });
  /** Sockets still in their PROXY header. */
  const reading = new Set<net.Socket>();
  const waiters: (() => void)[] = [];
  const settle = (): void => {
    if (reading.size > 0 || (handshakes !== null && handshakes.size > 0)) return;
    for (const resolve of waiters.splice(0)) resolve();
  };
  const handshakes = steps.tls === null ? null : new TlsHandshakes(steps.tls, steps.timeoutMs, (handle, socket, head) => handOverHandle(target, handle, socket, head), settle);
  const afterHeader = handshakes === null ? (socket: net.Socket) => target.emit('connection', socket) : (socket: net.Socket) => handshakes.startOnSocket(socket);
  // Listening itself (reuseport, shared) with nothing to read first: TLS on the accepted handles,
  // no net.Socket built. Handed-off connections still arrive as sockets.
  if (handshakes !== null && !steps.proxyProtocol) front.on('listening', () => acceptHandles(front, (handle) => handshakes.start(handle, null, null)));
  front.on('connection', (raw: net.Socket) => {
    if (!steps.proxyProtocol) return afterHeader(raw);
    reading.add(raw);
    const leave = (): void => {
      if (reading.delete(raw)) settle();
    };
    raw.once('close', leave);
    readProxyHeader(raw, steps.timeoutMs, (socket) => {
      afterHeader(socket);
      leave();
    });
  });
  return {
    server: front,
    settled: () => (reading.size === 0 && (handshakes === null || handshakes.size === 0) ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve))),
  };
}

/** A worker's transport, read from the config when it starts (the certificate files included). */
export interface EngineTransport {
  /** For the node engine's own server (https, http2); undefined on the fast engine. */
  node: NodeTransport | undefined;
  /** What the dispatch feeds, in front of the engine's server. */
  front(engineServer: net.Server): ConnectionFront;
}

export function engineTransport(cfg: ServeConfig): EngineTransport {
  const credentials = cfg.tls === null ? null : readTlsCredentials(cfg.tls);
  const onNode = cfg.engine === 'node';
  if (!onNode && credentials !== null) requireTlsBinding('--engine fast with --tls-cert', 'use --engine node');
  const frontTls = !onNode && credentials !== null ? tls.createSecureContext(credentials) : null;
  return {
    node: onNode ? { tls: credentials, http2: cfg.http2 } : undefined,
    front: (engineServer) => connectionFront(engineServer, { proxyProtocol: cfg.proxyProtocol, tls: frontTls, timeoutMs: cfg.headersTimeoutMs }),
  };
}

/**
 * What comes before HTTP on a server the APP listen()ed: the PROXY header, then herd's TLS when
 * the app's server is cleartext (an app.listen() under --tls-cert serves HTTPS, as it would behind
 * nginx; a server that does TLS itself keeps its own). The listeners it has for 'connection'
 * (node's own, herd's watch) get each socket once those steps are done.
 */
export function stepsBeforeAppServer(server: net.Server, cfg: ServeConfig): void {
  const context = cfg.tls !== null && !(server instanceof tls.Server) ? appSecureContext(cfg) : null;
  if (!cfg.proxyProtocol && context === null) return;
  // herd's own bookkeeping (handoff's close count) keeps the socket at accept; node's protocol
  // listener and any the app added wait for the steps.
  const listeners = (server.listeners('connection') as ((socket: net.Socket) => void)[]).filter((listener) => !atAccept.has(listener));
  for (const listener of listeners) server.off('connection', listener);
  const deliver = (socket: net.Socket): void => {
    for (const listener of listeners) listener.call(server, socket);
  };
  const afterHeader = context === null ? deliver : (socket: net.Socket) => terminateTls(socket, context, cfg.headersTimeoutMs, deliver);
  server.on('connection', (socket: net.Socket) => {
    if (cfg.proxyProtocol) readProxyHeader(socket, cfg.headersTimeoutMs, afterHeader);
    else afterHeader(socket);
  });
}

const atAccept = new WeakSet<object>();

/** Marks a 'connection' listener of herd's that wants the raw socket at accept, before any step. */
export function runsAtAccept<L extends (socket: net.Socket) => void>(listener: L): L {
  atAccept.add(listener);
  return listener;
}

/** One context for every app server of this worker, made from the files when the first listens. */
let appContext: tls.SecureContext | undefined;
function appSecureContext(cfg: ServeConfig): tls.SecureContext {
  appContext ??= tls.createSecureContext(readTlsCredentials(cfg.tls!));
  return appContext;
}
