// The `node` engine: node:http, so Express, Koa, Fastify and any request listener run unchanged.
// herd adds what node:http leaves to the app: the rules node:http lets through (a second Host, an
// HTTP/1.0 body framed by Transfer-Encoding: 400), --body-limit (413, only when given), a 500 for a
// handler that throws or rejects (instead of a dead worker), and, through ServerWatch, the
// timeouts, drain and access records.
import http from 'node:http';
import type { Engine, EngineOptions } from './engine.ts';
import { ServerWatch } from './server_watch.ts';
import { createNodeServer, trackHttp2Sessions } from '../transport/node_server.ts';

export function createNodeEngine(handler: http.RequestListener, options: EngineOptions): Engine {
  const bodyLimit = options.bodyLimit;
  const server = createNodeServer(
    options.transport ?? null,
    {
      requestTimeout: 0, // herd's watch bounds bodies (--body-timeout) and responses (--request-timeout)
      headersTimeout: options.headersTimeoutMs,
      keepAliveTimeout: options.keepAliveTimeoutMs,
    },
    (req, res) => {
      watch.track(req, res);
      const refused = refusal(req, bodyLimit);
      if (refused !== 0) return refuse(res, refused);
      try {
        const result = handler(req, res) as unknown;
        if (isThenable(result)) result.then(undefined, (err: unknown) => failRequest(res, err));
      } catch (err) {
        failRequest(res, err);
      }
    },
  );
  const http2Sessions = trackHttp2Sessions(server);
  if (options.maxConnections > 0) server.maxConnections = options.maxConnections;
  // Malformed requests: node answers 400 itself when we do not listen; keep that, but never crash.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    if (!socket.writable || err.code === 'ECONNRESET' || handshakeUnfinished(socket)) return void socket.destroy();
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    socket.end(`HTTP/1.1 ${status} ${http.STATUS_CODES[status]}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  });
  const watch = new ServerWatch(server, {
    tracksItself: true,
    requestTimeoutMs: options.requestTimeoutMs,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 0,
    idleTimeoutMs: options.idleTimeoutMs ?? 0,
    onAccess: options.onAccess,
    onResponse: options.onResponse,
    clientAddress: options.clientAddress,
    requestId: options.requestId,
    onCut: options.onCut ?? ((line) => console.error(`herd cut a response: ${line}`)),
  });
  return {
    server,
    connections: () => watch.connections(),
    accepted: () => watch.accepted(),
    requests: () => watch.requests(),
    drain: () => {
      // HTTP/2: GOAWAY, so each client finishes its streams and opens no more on this worker.
      for (const session of http2Sessions) session.close();
      return watch.drainRequests();
    },
    allClosed: () => watch.allClosed(),
    destroyAll: () => watch.destroyAll(),
  };
}

/**
 * 400 for what llhttp lets through and a strict server refuses: a second Host (RFC 9112 3.2) and
 * Transfer-Encoding on HTTP/1.0 (RFC 9112 6.1, a smuggling vector); 413 for a declared body over
 * --body-limit. 0: the request may go to the app. (A chunked body over the limit is the app's to bound.)
 */
function refusal(req: http.IncomingMessage, bodyLimit: number): number {
  const raw = req.rawHeaders;
  let hosts = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i];
    if (name.length === 4 && (name === 'Host' || name === 'host' || name.toLowerCase() === 'host')) hosts++; // no new string for the usual spellings
  }
  if (hosts > 1) return 400;
  if (req.httpVersionMinor === 0 && req.httpVersionMajor === 1 && req.headers['transfer-encoding'] !== undefined) return 400;
  if (bodyLimit > 0) {
    const length = req.headers['content-length'];
    if (length !== undefined && Number(length) > bodyLimit) return 413;
  }
  return 0;
}

function refuse(res: http.ServerResponse, status: number): void {
  res.writeHead(status, { 'Content-Type': 'text/plain', Connection: 'close' });
  res.end(`${http.STATUS_CODES[status]}\n`);
}

/** A TLS client error before the handshake finished (a timeout, a bad hello): no HTTP can be written to it. */
function handshakeUnfinished(socket: unknown): boolean {
  const s = socket as { encrypted?: boolean; _secureEstablished?: boolean };
  return s.encrypted === true && s._secureEstablished !== true;
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
