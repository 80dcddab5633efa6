// herd's bookkeeping on one node:http server, the node engine's own or one an APP started and
// listen()ed itself: connections and requests counted, access records, the three timeouts that
// fit streaming, and drain. It adds no 'upgrade' listener (that would change what node does with
// an upgrade request) and never replaces the app's 'request' listeners: it goes first.
//
// Timeouts are checked by one sweep over the requests in flight, not a timer per request:
// - a request body that moves no bytes for bodyTimeoutMs gets 408 (or is cut once answered);
// - a response whose head is not sent requestTimeoutMs after the body arrived gets 503;
// - a response whose head is sent and that moves no bytes for idleTimeoutMs is cut (an SSE stream
//   or a slow download that moves bytes lives as long as it moves them).
// Each cut is one line, once.
import http from 'node:http';
import type net from 'node:net';
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

/** One request in flight and what the sweep needs to judge it. */
class Exchange {
  readonly watch: ServerWatch;
  readonly req: http.IncomingMessage;
  readonly res: http.ServerResponse;
  readonly started: number;
  readonly writtenBefore: number;
  requestId: string | undefined;
  /** From when the request timeout counts: the request's start, then each sweep that saw its body still arriving. */
  waitingSince: number;
  lastMoved: number;
  lastBytes = -1;
  constructor(watch: ServerWatch, req: http.IncomingMessage, res: http.ServerResponse, now: number, writtenBefore: number) {
    this.watch = watch;
    this.req = req;
    this.res = res;
    this.started = now;
    this.waitingSince = now;
    this.lastMoved = now;
    this.writtenBefore = writtenBefore;
  }
}

export class ServerWatch {
  readonly #server: net.Server;
  readonly #options: WatchOptions;
  readonly #sockets = new Set<net.Socket>();
  /** Connections whose first request has not arrived yet: not idle, whatever node:http says. */
  readonly #fresh = new Set<net.Socket>();
  #freshTimer: NodeJS.Timeout | undefined;
  readonly #inFlight = new Set<Exchange>();
  #served = 0;
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
    server.on('connection', (socket: net.Socket) => {
      this.#accepted++;
      this.#sockets.add(socket);
      this.#fresh.add(socket);
      socket.once('close', () => {
        this.#sockets.delete(socket);
        this.#fresh.delete(socket);
        if (this.#draining) this.#checkSettled();
      });
    });
    if (isHttpServer(server) && !options.tracksItself) server.prependListener('request', (req, res) => this.track(req, res));
  }

  connections(): number {
    return this.#sockets.size;
  }

  requests(): number {
    return this.#served;
  }

  /** Connections accepted since start. */
  accepted(): number {
    return this.#accepted;
  }

  /** A request arrived: count it, time it, log it when done. */
  track(req: http.IncomingMessage, res: http.ServerResponse): void {
    const { onAccess, onResponse } = this.#options;
    // bytesWritten sums what is queued: read it only when the access log or the metrics need it.
    if (this.#fresh.size > 0) this.#fresh.delete(req.socket); // usually empty under keep-alive: no hashing
    const exchange = new Exchange(this, req, res, Date.now(), onAccess || onResponse ? req.socket.bytesWritten : 0);
    if (this.#options.requestId) {
      const id = requestIdFor(req.headers[REQUEST_ID_HEADER]);
      exchange.requestId = id;
      req.headers[REQUEST_ID_HEADER] = id;
      res.setHeader('X-Request-Id', id);
    }
    if (this.#draining) res.setHeader('Connection', 'close');
    this.#inFlight.add(exchange);
    this.#sweeper ??= setInterval(() => this.#sweep(), this.#sweepEveryMs).unref();
    // One shared listener, not a closure and once()'s wrapper per request: it finds its exchange on the response.
    (res as ExchangeHolder)[EXCHANGE] = exchange;
    res.on('close', responseClosed);
  }

  /** The response of `x` closed, finished or not. */
  closed(x: Exchange): void {
    this.#inFlight.delete(x);
    const { req, res } = x;
    if (res.writableFinished) {
      this.#served++;
      const { onAccess, onResponse } = this.#options;
      if (onResponse) onResponse(req.method ?? '-', res.statusCode, bodyBytesSent(x), Date.now() - x.started);
      if (onAccess) onAccess(accessRecord(x, this.#options.clientAddress));
    }
    if (this.#draining) this.#closeIdleSoon();
  }

  #sweep(): void {
    if (this.#inFlight.size === 0) {
      clearInterval(this.#sweeper);
      this.#sweeper = undefined;
      return;
    }
    const now = Date.now();
    const { requestTimeoutMs, bodyTimeoutMs, idleTimeoutMs } = this.#options;
    for (const x of this.#inFlight) {
      const socket = x.req.socket;
      const bytes = socket.bytesRead + socket.bytesWritten;
      if (bytes !== x.lastBytes) {
        x.lastBytes = bytes;
        x.lastMoved = now;
      }
      const idle = now - x.lastMoved;
      if (!x.req.complete) {
        x.waitingSince = now;
        if (bodyTimeoutMs > 0 && idle >= bodyTimeoutMs) this.#cut(x, 408, `no request body bytes for ${seconds(idle)} s (--body-timeout)`);
      } else if (!x.res.headersSent) {
        if (requestTimeoutMs > 0 && now - x.waitingSince >= requestTimeoutMs) this.#cut(x, 503, `no response head within ${seconds(now - x.waitingSince)} s (--request-timeout)`);
      } else if (idleTimeoutMs > 0 && idle >= idleTimeoutMs) {
        this.#cut(x, 0, `the response moved no bytes for ${seconds(idle)} s (--idle-timeout)`);
      }
    }
  }

  /** Answers `status` when nothing was sent yet (and closes), else cuts the connection. */
  #cut(x: Exchange, status: number, why: string): void {
    this.#inFlight.delete(x);
    const { req, res } = x;
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
    for (const x of this.#inFlight) busy.add(x.req.socket);
    for (const socket of this.#sockets) {
      if (!this.#fresh.has(socket) && !busy.has(socket) && !isUpgraded(socket)) socket.destroy();
    }
    if (this.#fresh.size > 0 && this.#freshTimer === undefined) {
      const headMs = this.#server.headersTimeout > 0 ? this.#server.headersTimeout : 10_000;
      this.#freshTimer = setTimeout(() => {
        for (const socket of this.#fresh) socket.destroy();
      }, headMs).unref();
    }
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

  #checkSettled(): void {
    if (this.#settled.length === 0 || this.#inFlight.size > 0) return;
    for (const socket of this.#sockets) if (!isUpgraded(socket)) return;
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

function responseClosed(this: http.ServerResponse): void {
  const x = (this as ExchangeHolder)[EXCHANGE];
  if (x !== undefined) x.watch.closed(x);
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
  return Math.max(0, x.req.socket.bytesWritten - x.writtenBefore - (typeof head === 'string' ? Buffer.byteLength(head, 'latin1') : 0));
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
