// The `node` engine: node:http, so Express, Koa, Fastify and any request listener run unchanged.
// herd adds what node:http leaves to the app: a bound on a handler that never answers, a 500 for a
// handler that throws or rejects (instead of a dead worker), drain on request, and access records.
import http from 'node:http';
import type net from 'node:net';
import { REQUEST_ID_HEADER, requestIdFor } from '../http/request_id.ts';
import type { Engine, EngineOptions } from './engine.ts';

export function createNodeEngine(handler: http.RequestListener, options: EngineOptions): Engine {
  const sockets = new Set<net.Socket>();
  const inFlight = new Set<http.ServerResponse>();
  let served = 0;
  let draining = false;
  let drained: (() => void) | undefined;

  const server = http.createServer(
    {
      requestTimeout: 0, // herd's own response timer below covers the whole exchange
      headersTimeout: options.headersTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
    },
    (req, res) => {
      const started = Date.now();
      const writtenBefore = req.socket.bytesWritten;
      let requestId: string | undefined;
      if (options.requestId) {
        requestId = requestIdFor(req.headers[REQUEST_ID_HEADER]);
        req.headers[REQUEST_ID_HEADER] = requestId;
        res.setHeader('X-Request-Id', requestId);
      }
      if (draining) res.setHeader('Connection', 'close');
      const timer = setTimeout(() => respondTimeout(res), options.requestTimeoutMs);
      inFlight.add(res);
      res.once('close', () => {
        inFlight.delete(res);
        clearTimeout(timer);
        if (res.writableFinished) {
          served++;
          if (options.onResponse) options.onResponse(req.method ?? '-', res.statusCode, bodyBytesSent(req, res, writtenBefore), Date.now() - started);
          if (options.onAccess) options.onAccess(accessRecord(req, res, started, writtenBefore, requestId));
        }
        if (draining) closeIdleSoon();
      });
      try {
        const result = handler(req, res) as unknown;
        if (isThenable(result)) result.then(undefined, (err: unknown) => failRequest(res, err));
      } catch (err) {
        failRequest(res, err);
      }
    },
  );
  if (options.maxConnections > 0) server.maxConnections = options.maxConnections;
  let accepted = 0;
  server.on('connection', (socket: net.Socket) => {
    accepted++;
    sockets.add(socket);
    socket.once('close', () => {
      sockets.delete(socket);
      if (draining && sockets.size === 0) drained?.();
    });
  });
  // Malformed requests: node answers 400 itself when we do not listen; keep that, but never crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: net.Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });

  let idleTimer: NodeJS.Immediate | undefined;
  function closeIdleSoon(): void {
    // After a response finishes its socket becomes idle on the next tick; close it then.
    idleTimer ??= setImmediate(() => {
      idleTimer = undefined;
      server.closeIdleConnections();
    });
  }

  return {
    server,
    connections: () => sockets.size,
    requests: () => served,
    accepted: () => accepted,
    drain() {
      draining = true;
      // Responses not started yet tell their clients this connection ends with them.
      for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close');
      server.closeIdleConnections();
      if (sockets.size === 0) return Promise.resolve();
      return new Promise<void>((resolve) => {
        drained = resolve;
      });
    },
    destroyAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof value === 'object' && value !== null && typeof (value as PromiseLike<unknown>).then === 'function';
}

/** The handler threw or its promise rejected: 500 if nothing was sent yet, else cut the connection. */
function failRequest(res: http.ServerResponse, err: unknown): void {
  console.error(`request handler failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  if (res.headersSent || res.writableEnded) {
    res.destroy();
    return;
  }
  res.writeHead(500, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end('Internal Server Error\n');
}

/** The handler did not finish in time: 503 (as Go's TimeoutHandler) and close, or cut if it had started. */
function respondTimeout(res: http.ServerResponse): void {
  if (res.writableEnded) return;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(503, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end('Service Unavailable: the request timed out\n');
}

/** What the socket carried for this response, minus its head: nginx's $body_bytes_sent. */
function bodyBytesSent(req: http.IncomingMessage, res: http.ServerResponse, writtenBefore: number): number {
  const head = (res as unknown as { _header: string | null })._header;
  return Math.max(0, req.socket.bytesWritten - writtenBefore - (head ? Buffer.byteLength(head, 'latin1') : 0));
}

function accessRecord(req: http.IncomingMessage, res: http.ServerResponse, started: number, writtenBefore: number, requestId: string | undefined) {
  return {
    remote: req.socket.remoteAddress ?? '-',
    time: started,
    method: req.method ?? '-',
    url: req.url ?? '-',
    httpVersion: req.httpVersion,
    status: res.statusCode,
    bytes: bodyBytesSent(req, res, writtenBefore),
    referer: req.headers.referer,
    userAgent: req.headers['user-agent'],
    durationMs: Date.now() - started,
    requestId,
  };
}
