// herd's bookkeeping on one node:http server, the node engine's own or one an APP started and
// listen()ed itself: connections and requests counted, access records, the three timeouts that
// fit streaming, and drain. It adds no 'upgrade' listener (that would change what node does with
// an upgrade request) and never replaces the app's 'request' listeners: it goes first.
//
// Timeouts are checked by one sweep, not a timer per request:
// - a request body that moves no bytes for bodyTimeoutMs gets 408 (or is cut once answered);
// - a response whose head is not sent requestTimeoutMs after the body arrived gets 503;
// - a response whose head is sent and that moves no bytes for idleTimeoutMs is cut (an SSE stream
//   or a slow download that moves bytes lives as long as it moves them).
// Each cut is one line, once.
//
// Two ways to know a request in flight, so that the common case costs next to nothing:
// - Recorded: an Exchange per request, with a 'close' listener on its response. Needed when each
//   response is reported (access log, metrics), for --request-id, for HTTP/2 (many streams share
//   a connection), and for requests that arrive during a drain.
// - Otherwise nothing per request but a count: the sweep finds each response in progress where
//   node:http keeps it, on its socket, and times it from its first sighting (Sighting), so a
//   timeout fires between its limit and its limit plus two sweep intervals. Recording every request
//   cost about 5 % of an Express app's CPU per keep-alive request (`herd bench --vs`, README).
import http from 'node:http';
import type net from 'node:net';
import tls from 'node:tls';
import type { AccessRecord } from '../logd/access_record.ts';
import { sweepEveryMs } from '../http/connection_timeouts.ts';
import { REQUEST_ID_HEADER, requestIdFor } from '../http/request_id.ts';

export interface WatchOptions {
  requestTimeoutMs: number;
  bodyTimeoutMs: number;
  idleTimeoutMs: number;
  onAccess?: (record: AccessRecord) => void;
  /** --metrics: each finished response. */
  onResponse?: (method: string, status: number, bodyBytes: number, durationMs: number) => void;
  /** --request-id: every request gets an X-Request-Id (its own when valid), echoed and logged. */
  requestId?: boolean;
  /** One line per response herd cut. */
  onCut: (line: string) => void;
  /**
   * The server's request listener calls track() itself (the node engine's does, so each request
   * is one listener call: node's emit copies its listener array when there are two).
   */
  tracksItself?: boolean;
  /** --trust-proxy: the client address to log, from the peer and X-Forwarded-For. */
  clientAddress?: (peer: string, forwardedFor: string | string[] | undefined) => string;
}

/** One recorded request in flight: what its record needs, and what the sweep judges it by. */
class Exchange {
  readonly watch: ServerWatch;
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly started: number;
  /**
   * The socket's bytesWritten when this response began on it and when it finished: a pipelined
   * response begins only when the one before it has finished, and node:http writes the next one
   * in its own 'finish' listener. -1: not yet (or not counted: nothing reports the bytes).
   */
  writtenBefore = -1;
  writtenAfter = -1;
  requestId: string | undefined;
  /** From when the request timeout counts: the request's start, then each sweep that saw its body still arriving. */
  waitingSince: number;
  lastMoved: number;
  lastBytes = -1;
  constructor(watch: ServerWatch, req: http.IncomingMessage, res: http.ServerResponse, now: number) {
    this.watch = watch;
    this.req = req;
    this.res = res;
    this.started = now;
    this.waitingSince = now;
    this.lastMoved = now;
  }
}

/**
 * A response in progress that the sweep found on a connection without a record (the lean way
 * above), and what it judges it by; kept from sweep to sweep while that response lasts.
 */
class Sighting {
  readonly res: http.ServerResponse;
  /** From its first sighting: at most one sweep after it began, so a timeout is never early. */
  waitingSince: number;
  lastMoved: number;
  lastBytes = -1;
  /** The sweep cut it: judged once. */
  cut = false;
  constructor(res: http.ServerResponse, now: number) {
    this.res = res;
    this.waitingSince = now;
    this.lastMoved = now;
  }
}

/** The socket node:http serves on: it keeps the response in progress in _httpMessage. */
type HttpSocket = net.Socket & { _httpMessage?: http.ServerResponse | null; _parent?: net.Socket };

export class ServerWatch {
  readonly #server: net.Server;
  readonly #options: WatchOptions;
  readonly #sockets = new Set<net.Socket>();
  /** Connections whose first request has not arrived yet: not idle, whatever node:http says. */
  readonly #fresh = new Set<net.Socket>();
  #freshTimer: NodeJS.Timeout | undefined;
  /** Recorded requests in flight. */
  readonly #inFlight = new Set<Exchange>();
  /** node:http's sockets when they are not the accepted ones: an https server's TLS socket over each accepted one. */
  readonly #tlsSockets: Map<net.Socket, net.Socket> | null;
  /** Per connection (node:http's socket), the unrecorded response the sweep found in progress. */
  readonly #sightings = new Map<net.Socket, Sighting>();
  /** Report each response, or give it an id: every request is recorded. */
  readonly #recordAll: boolean;
  /** During a drain: responses whose end we wait for. */
  readonly #awaited = new WeakSet<http.ServerResponse>();
  #received = 0;
  #accepted = 0;
  #draining = false;
  #sweeper: NodeJS.Timeout | undefined;
  readonly #sweepEveryMs: number;
  #idleTimer: NodeJS.Immediate | undefined;
  #settled: (() => void)[] = [];

  constructor(server: net.Server, options: WatchOptions) {
    this.#server = server;
    this.#options = options;
    this.#sweepEveryMs = sweepEveryMs([options.requestTimeoutMs, options.bodyTimeoutMs, options.idleTimeoutMs]);
    this.#recordAll = options.onAccess !== undefined || options.onResponse !== undefined || options.requestId === true;
    server.on('connection', (socket: net.Socket) => {
      this.#accepted++;
      this.#sockets.add(socket);
      this.#fresh.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#fresh.delete(socket);
        this.#sightings.delete(socket);
        if (this.#draining) this.#checkSettled();
      });
    });
    this.#tlsSockets = server instanceof tls.Server ? new Map() : null;
    if (this.#tlsSockets !== null) {
      const tlsSockets = this.#tlsSockets;
      server.on('secureConnection', (socket: net.Socket) => {
        const raw = rawSocket(socket);
        tlsSockets.set(raw, socket);
        socket.once('close', () => {
          tlsSockets.delete(raw);
          this.#sightings.delete(socket);
        });
      });
    }
    if (isHttpServer(server) && !options.tracksItself) server.prependListener('request', (req, res) => this.track(req, res));
  }

  connections(): number {
    return this.#sockets.size;
  }

  /** Requests received (each one counted as it arrives). */
  requests(): number {
    return this.#received;
  }

  /** Connections accepted since start. */
  accepted(): number {
    return this.#accepted;
  }

  /** A request arrived: count it, and note it or record it (see the top of this file). */
  track(req: http.IncomingMessage, res: http.ServerResponse): void {
    this.#received++;
    const socket = req.socket;
    if (this.#fresh.size > 0) this.#fresh.delete(rawSocket(socket)); // usually empty under keep-alive: no hashing
    this.#sweeper ??= setInterval(() => this.#sweep(), this.#sweepEveryMs).unref();
    // HTTP/1: the sweep finds the response on its socket. Nothing more per request.
    if (this.#recordAll || this.#draining || req.httpVersionMajor !== 1) this.#record(req, res);
  }

  #record(req: http.IncomingMessage, res: http.ServerResponse): void {
    const { onAccess, onResponse } = this.#options;
    const exchange = new Exchange(this, req, res, Date.now());
    // bytesWritten sums what is queued: read it only when the access log or the metrics need it.
    if (onAccess || onResponse) {
      if (res.socket !== null) exchange.writtenBefore = res.socket.bytesWritten;
      else res.once('socket', responseBegins); // pipelined behind another response
      res.prependListener('finish', responseFinished); // before node:http's own, which starts the next response
    }
    if (this.#options.requestId) {
      const id = requestIdFor(req.headers[REQUEST_ID_HEADER]);
      exchange.requestId = id;
      req.headers[REQUEST_ID_HEADER] = id;
      res.setHeader('X-Request-Id', id);
    }
    if (this.#draining) res.setHeader('Connection', 'close');
    this.#inFlight.add(exchange);
    // One shared listener, not a closure and once()'s wrapper per request: it finds its exchange on the response.
    (res as ExchangeHolder)[EXCHANGE] = exchange;
    res.on('close', responseClosed);
  }

  /** The response of `x` closed, finished or not. */
  closed(x: Exchange): void {
    this.#inFlight.delete(x);
    const { req, res } = x;
    if (res.writableFinished) {
      const { onAccess, onResponse } = this.#options;
      if (onResponse) onResponse(req.method ?? '-', res.statusCode, bodyBytesSent(x), Date.now() - x.started);
      if (onAccess) onAccess(accessRecord(x, this.#options.clientAddress));
    }
    if (this.#draining) this.#closeIdleSoon();
  }

  #sweep(): void {
    const now = Date.now();
    let busy = this.#inFlight.size;
    for (const x of this.#inFlight) this.#judge(x, x.req, x.res, now);
    for (const socket of this.#httpSockets()) {
      // node:http keeps the response in progress on the socket, and gives it the next pipelined one as it finishes.
      const res = (socket as HttpSocket)._httpMessage;
      if (res == null || res.writableFinished || (res as ExchangeHolder)[EXCHANGE] !== undefined) {
        if (this.#sightings.size > 0) this.#sightings.delete(socket);
        continue;
      }
      busy++;
      let seen = this.#sightings.get(socket);
      if (seen === undefined || seen.res !== res) {
        seen = new Sighting(res, now);
        this.#sightings.set(socket, seen);
      }
      if (!seen.cut) seen.cut = this.#judge(seen, res.req, res, now);
    }
    if (busy === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
    }
  }

  /** The three timeouts, for a recorded exchange or a connection's current response. True: it was cut. */
  #judge(x: Exchange | Sighting, req: http.IncomingMessage, res: http.ServerResponse, now: number): boolean {
    const { requestTimeoutMs, bodyTimeoutMs, idleTimeoutMs } = this.#options;
    const socket = req.socket;
    const bytes = socket.bytesRead + socket.bytesWritten;
    if (bytes !== x.lastBytes) {
      x.lastBytes = bytes;
      x.lastMoved = now;
    }
    const idle = now - x.lastMoved;
    let why: string | null = null;
    let status = 0;
    if (!req.complete) {
      x.waitingSince = now;
      if (bodyTimeoutMs > 0 && idle >= bodyTimeoutMs) [status, why] = [408, `no request body bytes for ${seconds(idle)} s (--body-timeout)`];
    } else if (!res.headersSent) {
      if (requestTimeoutMs > 0 && now - x.waitingSince >= requestTimeoutMs) [status, why] = [503, `no response head within ${seconds(now - x.waitingSince)} s (--request-timeout)`];
    } else if (idleTimeoutMs > 0 && idle >= idleTimeoutMs) {
      why = `the response moved no bytes for ${seconds(idle)} s (--idle-timeout)`;
    }
    if (why === null) return false;
    this.#cut(req, res, status, why);
    return true;
  }

  /** Answers `status` when nothing was sent yet (and closes), else cuts the connection. */
  #cut(req: http.IncomingMessage, res: http.ServerResponse, status: number, why: string): void {
    const x = (res as ExchangeHolder)[EXCHANGE];
    if (x !== undefined) this.#inFlight.delete(x);
    const answered = status !== 0 && !res.headersSent && !res.writableEnded;
    this.#options.onCut(`${req.method} ${req.url} from ${req.socket.remoteAddress ?? '-'}: ${answered ? status : 'connection closed'}: ${why}`);
    if (!answered) {
      res.destroy();
      return;
    }
    res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' });
    res.end(status === 408 ? 'Request Timeout\n' : 'Service Unavailable: the request timed out\n');
  }

  #closeIdleSoon(): void {
    // After a response finishes its socket becomes idle on the next tick; close it then.
    this.#idleTimer ??= setImmediate(() => {
      this.#idleTimer = undefined;
      this.#closeIdle();
      this.#checkSettled();
    });
  }

  /**
   * Closes the keep-alive connections waiting for their next request. Not node's
   * closeIdleConnections(): it also closes a connection whose first request has not been read yet
   * (accepted just before the drain), and that request fails, a reset under connection-per-request
   * load. Those get `Connection: close` on their request instead; one that sends nothing is closed
   * after the server's head timeout.
   */
  #closeIdle(): void {
    if (!isHttpServer(this.#server)) return;
    const busy = new Set<net.Socket>();
    for (const x of this.#inFlight) busy.add(rawSocket(x.req.socket));
    for (const socket of this.#httpSockets()) {
      const res = inProgress(socket);
      if (res === null) continue;
      busy.add(rawSocket(socket));
      if (this.#draining) this.#awaitEnd(res); // a later pipelined one is awaited when it begins
    }
    for (const socket of this.#sockets) {
      if (!this.#fresh.has(socket) && !busy.has(socket) && !isUpgraded(this.#httpSocketOf(socket))) socket.destroy();
    }
    if (this.#fresh.size > 0 && this.#freshTimer === undefined) {
      const headMs = this.#server.headersTimeout > 0 ? this.#server.headersTimeout : 10_000;
      this.#freshTimer = setTimeout(() => {
        for (const socket of this.#fresh) socket.destroy();
      }, headMs).unref();
    }
  }

  /** During a drain, an unrecorded response in progress: `Connection: close` if it can still say so, and its end closes idle connections. */
  #awaitEnd(res: http.ServerResponse | null | undefined): void {
    if (res == null || res.writableFinished || this.#awaited.has(res) || (res as ExchangeHolder)[EXCHANGE] !== undefined) return;
    this.#awaited.add(res);
    if (!res.headersSent) res.setHeader('Connection', 'close');
    res.once('close', () => this.#closeIdleSoon());
  }

  /**
   * Graceful stop of what is accepted: requests in flight finish with `Connection: close`, idle
   * keep-alive connections close now. Resolves when no request is in flight and only upgraded
   * connections (WebSockets) are left; those are the app's to close, or destroyAll's.
   */
  drainRequests(): Promise<void> {
    this.#draining = true;
    for (const x of this.#inFlight) if (!x.res.headersSent) x.res.setHeader('Connection', 'close');
    this.#closeIdle();
    return new Promise((resolve) => {
      this.#settled.push(resolve);
      this.#checkSettled();
    });
  }

  /** Resolves when every connection is closed, upgraded ones included. */
  allClosed(): Promise<void> {
    return new Promise((resolve) => {
      const check = (): void => {
        if (this.#sockets.size === 0) resolve();
        else setTimeout(check, 20).unref();
      };
      check();
    });
  }

  /** The sockets node:http serves on. */
  #httpSockets(): Iterable<net.Socket> {
    return this.#tlsSockets?.values() ?? this.#sockets;
  }

  /** The socket node:http serves an accepted one on: itself, or the TLS socket over it (none yet during its handshake). */
  #httpSocketOf(socket: net.Socket): net.Socket {
    return this.#tlsSockets?.get(socket) ?? socket;
  }

  #checkSettled(): void {
    if (this.#settled.length === 0 || this.#inFlight.size > 0) return;
    for (const socket of this.#httpSockets()) if (inProgress(socket) !== null) return;
    for (const socket of this.#sockets) if (!isUpgraded(this.#httpSocketOf(socket))) return;
    for (const resolve of this.#settled.splice(0)) resolve();
  }

  destroyAll(): void {
    for (const socket of this.#sockets) socket.destroy();
  }
}

const EXCHANGE = Symbol('herd exchange');

interface ExchangeHolder {
  [EXCHANGE]?: Exchange;
}

function responseBegins(this: http.ServerResponse, socket: net.Socket): void {
  const x = (this as ExchangeHolder)[EXCHANGE];
  if (x !== undefined) x.writtenBefore = socket.bytesWritten;
}

function responseFinished(this: http.ServerResponse): void {
  const x = (this as ExchangeHolder)[EXCHANGE];
  if (x !== undefined) x.writtenAfter = x.req.socket.bytesWritten;
}

function responseClosed(this: http.ServerResponse): void {
  const x = (this as ExchangeHolder)[EXCHANGE];
  if (x !== undefined) x.watch.closed(x);
}

/** The response node:http is on for this socket, if any (it moves to the next pipelined one as that one finishes). */
function inProgress(socket: net.Socket): http.ServerResponse | null {
  const res = (socket as HttpSocket)._httpMessage;
  return res != null && !res.writableFinished ? res : null;
}

/** The accepted socket under node:http's (the TCP one under a TLS socket): what 'connection' gave us. */
function rawSocket(socket: net.Socket): net.Socket {
  return (socket as HttpSocket)._parent ?? socket;
}

function isHttpServer(server: net.Server): server is http.Server {
  return typeof (server as http.Server).closeIdleConnections === 'function';
}

/** node:http drops its parser from a socket it handed to an 'upgrade' listener. */
function isUpgraded(socket: net.Socket): boolean {
  const s = socket as net.Socket & { parser?: unknown; _httpMessage?: unknown };
  return s.parser == null && s._httpMessage == null;
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

/** What the socket carried for this response, minus its head: nginx's $body_bytes_sent. */
function bodyBytesSent(x: Exchange): number {
  const head = (x.res as unknown as { _header: string | boolean | null })._header;
  // HTTP/2 (node:http2's compatibility response: _header is `true`): the head is HPACK-coded and
  // every stream shares the socket, so a declared length is the honest figure when there is one.
  if (typeof head !== 'string') {
    const declared = Number(x.res.getHeader('content-length'));
    if (head === true && Number.isFinite(declared)) return declared;
  }
  if (x.writtenBefore < 0) return 0; // never began: closed while another response was in progress
  const after = x.writtenAfter >= 0 ? x.writtenAfter : x.req.socket.bytesWritten;
  return Math.max(0, after - x.writtenBefore - (typeof head === 'string' ? Buffer.byteLength(head, 'latin1') : 0));
}

function accessRecord(x: Exchange, clientAddress: WatchOptions['clientAddress']): AccessRecord {
  const { req, res } = x;
  const peer = req.socket.remoteAddress ?? '-';
  return {
    remote: clientAddress ? clientAddress(peer, req.headers['x-forwarded-for']) : peer,
    time: x.started,
    method: req.method ?? '-',
    url: req.url ?? '-',
    httpVersion: req.httpVersion,
    status: res.statusCode,
    bytes: bodyBytesSent(x),
    referer: req.headers.referer,
    userAgent: req.headers['user-agent'],
    durationMs: Date.now() - x.started,
    requestId: x.requestId,
  };
}
