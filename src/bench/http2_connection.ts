// One HTTP/2 client connection of the load generator: a node:http2 session (over TLS by ALPN for
// https://, prior knowledge for http://) carrying up to `streams` requests at once. Each finished
// stream is one request; a stream reset or a session error fails what was in flight, and the
// session is opened again for the next requests.
import http2 from 'node:http2';
import { KIND_BAD_RESPONSE, KIND_OTHER, KIND_REFUSED, KIND_RESET, KIND_TIMEOUT } from './connection.ts';
import type { LoadLoop } from './load_loop.ts';

export interface Http2Plan {
  /** https://host:port or http://host:port, with the resolved address as host. */
  origin: string;
  servername: string;
  insecure: boolean;
  /** Requests in flight per connection. */
  streams: number;
  /** Pseudo-headers and headers of the request. */
  headers: Record<string, string>;
  body: Uint8Array | null;
}

function kindOf(err: NodeJS.ErrnoException): number {
  switch (err.code) {
    case 'ECONNREFUSED': return KIND_REFUSED;
    case 'ECONNRESET': case 'EPIPE': case 'ERR_HTTP2_STREAM_ERROR': case 'ERR_HTTP2_SESSION_ERROR': return KIND_RESET;
    case 'ERR_HTTP2_INVALID_HEADER_VALUE': case 'ERR_HTTP2_ERROR': return KIND_BAD_RESPONSE;
    default: return KIND_OTHER;
  }
}

export class Http2Connection {
  inFlight = 0;
  /** When this connection last made progress (connect, a stream started or finished): --timeout counts from it. */
  attemptAt = 0;

  private readonly loop: LoadLoop;
  private readonly h2: Http2Plan;
  private session: http2.ClientHttp2Session | null = null;

  constructor(loop: LoadLoop, h2: Http2Plan) {
    this.loop = loop;
    this.h2 = h2;
  }

  start(now = performance.now()): void {
    const loop = this.loop;
    while (!loop.stopped && this.inFlight < this.h2.streams) {
      if (loop.take(1) === 0) return;
      if (this.session === null) this.open();
      this.inFlight++;
      this.attemptAt = now;
      this.request(this.session!, now);
    }
  }

  stop(): void {
    this.close();
  }

  timedOut(): void {
    this.fail(KIND_TIMEOUT);
  }

  private open(): void {
    const h2 = this.h2;
    const session = http2.connect(h2.origin, { servername: h2.servername, rejectUnauthorized: !h2.insecure, ALPNProtocols: ['h2'] });
    session.on('error', (err: NodeJS.ErrnoException) => {
      if (session === this.session) this.fail(kindOf(err));
    });
    session.on('close', () => {
      if (session === this.session) this.fail(KIND_RESET);
    });
    this.session = session;
  }

  private request(session: http2.ClientHttp2Session, startedAt: number): void {
    const loop = this.loop;
    const body = this.h2.body;
    const stream = session.request(this.h2.headers, { endStream: body === null });
    if (body !== null) stream.end(body);
    let status = 0;
    let settled = false;
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.on('data', (chunk: Buffer) => loop.received(chunk.length));
    stream.on('error', () => {}); // reported by 'close' below, with the session's error if any
    stream.on('close', () => {
      if (settled || session !== this.session) return;
      settled = true;
      this.inFlight--;
      if (status > 0 && stream.rstCode === http2.constants.NGHTTP2_NO_ERROR) {
        this.attemptAt = loop.succeeded(status, startedAt);
      } else {
        loop.failed(status > 0 ? KIND_BAD_RESPONSE : KIND_RESET, 1);
      }
      if (!loop.stopped) this.start();
    });
  }

  private fail(kind: number): void {
    const count = this.inFlight;
    this.inFlight = 0;
    this.close();
    this.loop.failed(kind, count);
    if (!this.loop.stopped) this.start();
  }

  private close(): void {
    const session = this.session;
    if (session === null) return;
    this.session = null;
    session.destroy();
  }
}
