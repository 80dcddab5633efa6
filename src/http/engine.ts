// The fast engine: herd's own HTTP/1.1 server behind the Engine seam the worker uses.
// `server` is a plain net.Server; every socket that reaches its 'connection' event (accepted by
// listen(), or emitted by the handoff dispatch) becomes a Connection.
import net from 'node:net';
import type { Engine, EngineOptions } from '../worker/engine.ts';
import type { AccessRecord } from '../logd/access_record.ts';
import { Connection } from './connection.ts';
import type { ConnectionHost } from './connection.ts';
import { DEFAULT_LIMITS, RequestParser } from './parser.ts';
import type { ParserLimits, ParserSink } from './parser.ts';
import type { RequestHead } from './request_head.ts';
import type { FastRequest } from './request.ts';
import { EncodedResponseCache } from './response.ts';
import type { FastResponse } from './response.ts';
import type { Handler } from './types.ts';

const OVER_CAPACITY = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\nConnection: close\r\n\r\nService Unavailable: too many clients',
  'latin1',
);

class FastEngine implements Engine, ConnectionHost {
  readonly server: net.Server;
  readonly keepAliveLines: string;
  readonly encodedCache = new EncodedResponseCache();
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  draining = false;
  private readonly handler: Handler;
  private readonly maxConnections: number;
  private readonly limits: ParserLimits;
  private readonly onAccess: ((record: AccessRecord) => void) | undefined;
  private readonly live = new Set<Connection>();
  private served = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly sweepEveryMs: number;
  private drainWaiters: (() => void)[] = [];

  constructor(handler: Handler, options: EngineOptions) {
    this.handler = handler;
    this.requestTimeoutMs = options.requestTimeoutMs;
    this.headersTimeoutMs = options.headersTimeoutMs;
    this.keepAliveTimeoutMs = options.keepAliveTimeoutMs;
    this.maxConnections = options.maxConnections;
    this.onAccess = options.onAccess;
    this.limits = { ...DEFAULT_LIMITS, bodyLimit: options.bodyLimit };
    const seconds = Math.floor(options.keepAliveTimeoutMs / 1000);
    this.keepAliveLines = 'Connection: keep-alive\r\n' + (seconds > 0 ? `Keep-Alive: timeout=${seconds}\r\n` : '');
    // Timeouts are checked by one sweep over all connections, often enough to be a few % late at most.
    const shortest = Math.min(...[options.requestTimeoutMs, options.headersTimeoutMs, options.keepAliveTimeoutMs].filter((t) => t > 0), 4000);
    this.sweepEveryMs = Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
    this.server = net.createServer({ allowHalfOpen: true });
    this.server.on('connection', (socket: net.Socket) => this.accept(socket));
  }

  private accept(socket: net.Socket): void {
    if (this.maxConnections > 0 && this.live.size >= this.maxConnections) {
      rejectOverCapacity(socket);
      return;
    }
    if (this.draining) {
      socket.destroy();
      return;
    }
    this.live.add(new Connection(socket, this, Date.now()));
    if (this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepEveryMs);
      this.sweeper.unref();
    }
  }

  private sweep(): void {
    const now = Date.now();
    for (const connection of this.live) connection.checkTimeouts(now);
  }

  newParser(sink: ParserSink): RequestParser {
    return new RequestParser(sink, this.limits);
  }

  invoke(req: FastRequest, res: FastResponse, connection: Connection): void {
    let result: void | Promise<void>;
    try {
      result = this.handler(req, res);
    } catch (error) {
      connection.handlerFailed(res, error, req.method, req.url);
      return;
    }
    if (result !== undefined && result !== null && typeof result.then === 'function') {
      result.then(undefined, (error: unknown) => connection.handlerFailed(res, error, req.method, req.url));
    }
  }

  completed(res: FastResponse, head: RequestHead | null, connection: Connection): void {
    this.served++;
    const onAccess = this.onAccess;
    if (onAccess === undefined) return;
    const now = Date.now();
    onAccess({
      remote: connection.remoteAddress,
      time: res.startedAt,
      method: head?.method ?? '-',
      url: head?.url ?? '-',
      httpVersion: head?.httpVersion ?? '1.1',
      status: res.statusCode,
      bytes: res.bodyBytes,
      referer: head?.header('referer'),
      userAgent: head?.header('user-agent'),
      durationMs: now - res.startedAt,
    });
  }

  closed(connection: Connection): void {
    this.live.delete(connection);
    if (this.live.size > 0) return;
    if (this.sweeper !== null) {
      clearInterval(this.sweeper);
      this.sweeper = null;
    }
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  connections(): number {
    return this.live.size;
  }

  requests(): number {
    return this.served;
  }

  drain(): Promise<void> {
    this.draining = true;
    if (this.live.size === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    for (const connection of this.live) connection.drain();
    return done;
  }

  destroyAll(): void {
    for (const connection of this.live) connection.destroy();
  }
}

/** Over the per-worker limit: a short 503, then close (reading what the client sends so it gets the answer). */
function rejectOverCapacity(socket: net.Socket): void {
  socket.on('error', () => {});
  socket.on('data', () => {});
  socket.end(OVER_CAPACITY);
  setTimeout(() => socket.destroy(), 2000).unref();
}

export function createFastEngine(handler: Handler, options: EngineOptions): Engine {
  return new FastEngine(handler, options);
}
