// The server the node engine runs on: node:http in cleartext, node:https with --tls-cert, or
// node:http2's secure server with --http2 (HTTP/1.1 still offered by ALPN, so every client gets a
// protocol it speaks; h2c is not offered). With TLS the handshake happens in the server's own
// 'connection' listener, so a connection handed off as raw TCP is encrypted in the worker.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';

export interface NodeTransport {
  /** Certificate, key and minimum version (readTlsCredentials); null: cleartext. */
  tls: tls.SecureContextOptions | null;
  http2: boolean;
}

export interface HttpOptions {
  headersTimeout: number;
  keepAliveTimeout: number;
  requestTimeout: number;
}

export function createNodeServer(transport: NodeTransport | null, options: HttpOptions, listener: http.RequestListener): net.Server {
  if (transport === null || transport.tls === null) return http.createServer(options, listener);
  // A client that opens a connection and never finishes the handshake is held no longer than one
  // that never finishes its request head.
  const handshakeTimeout = options.headersTimeout > 0 ? options.headersTimeout : 120_000;
  if (!transport.http2) return https.createServer({ ...options, ...transport.tls, handshakeTimeout }, listener);
  const server = http2.createSecureServer({ ...transport.tls, allowHTTP1: true, handshakeTimeout }, listener as never);
  // HTTP/1.1 over this server runs node:http's connection handling, which reads these from it.
  Object.assign(server, options);
  return server;
}

/** HTTP/2 sessions open on `server` (for drain: each gets a GOAWAY); empty for HTTP/1. */
export function trackHttp2Sessions(server: net.Server): Set<http2.ServerHttp2Session> {
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (session: http2.ServerHttp2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  return sessions;
}
