// The fast engine: herd's own HTTP/1.1 server behind the Engine seam the worker uses.
// `server` is a plain net.Server. Once it listens (reuseport, or a listening handle for shared
// dispatch), accepted connections go straight to Connections on their libuv handles, no
// net.Socket built; a net.Socket emitted as 'connection' (handoff dispatch) gives up its handle
// to a Connection the same way.
import net from 'node:net';
import type { Engine, EngineOptions } from '../worker/engine.ts';
import type { AccessRecord } from '../logd/access_record.ts';
import { Connection } from './connection.ts';
import type { ConnectionHost } from './connection.ts';
import { DEFAULT_LIMITS, RequestParser } from './parser.ts';
import type { ParserLimits, ParserSink } from './parser.ts';
import type { FastRequest } from './request.ts';
import { HeadRenderer } from './head_renderer.ts';
import { sweepEveryMs, type TimeoutLimits } from './connection_timeouts.ts';
import { REQUEST_ID_HEADER, requestIdFor } from './request_id.ts';
import type { FastResponse } from './response.ts';
import { refuseOverCapacity } from './over_capacity.ts';
import { acceptHandles, closeHandle, takeHandedHandles, takeHandle } from '../uv/stream_handle.ts';
import { requireStreamBinding } from '../uv/binding.ts';
import type { StreamHandle } from '../uv/stream_handle.ts';
import type { Handler } from './types.ts';

class FastEngine implements Engine, ConnectionHost {
  readonly server: net.Server;
  readonly renderer: HeadRenderer;
  readonly timeouts: TimeoutLimits;
  readonly cut: (line: string) => void;
  readonly onAccess: ((record: AccessRecord) => void) | undefined;
  readonly onResponse: EngineOptions['onResponse'];
  readonly clientAddress: EngineOptions['clientAddress'];
  draining = false;
  private readonly handler: Handler;
  private readonly maxConnections: number;
  private readonly limits: ParserLimits;
  private readonly requestId: boolean;
  /** Open connections; each knows its index (`slot`), so removal is a swap with the last, no hashing. */
  private readonly live: Connection[] = [];
  private served = 0;
  private acceptedCount = 0;
  private sweeper: NodeJS.Timeout | null = null;
  private readonly sweepEveryMs: number;
  private drainWaiters: (() => void)[] = [];

  constructor(handler: Handler, options: EngineOptions) {
    this.handler = handler;
    const timeouts: TimeoutLimits = {
      requestMs: options.requestTimeoutMs,
      headersMs: options.headersTimeoutMs,
      keepAliveMs: options.keepAliveTimeoutMs,
      bodyMs: options.bodyTimeoutMs ?? 0,
    };
    this.timeouts = timeouts;
    this.cut = options.onCut ?? ((line) => console.error(`herd cut a response: ${line}`));
    this.maxConnections = options.maxConnections;
    this.onAccess = options.onAccess;
    this.onResponse = options.onResponse;
    this.requestId = options.requestId ?? false;
    this.clientAddress = options.clientAddress;
    // 0: no limit of herd's (the app decides), as on the node engine.
    this.limits = { ...DEFAULT_LIMITS, bodyLimit: options.bodyLimit > 0 ? options.bodyLimit : Number.MAX_SAFE_INTEGER };
    this.renderer = new HeadRenderer(options.keepAliveTimeoutMs);
    // Timeouts are checked by one sweep over all connections, often enough to be a few % late at most.
    this.sweepEveryMs = sweepEveryMs([timeouts.requestMs, timeouts.headersMs, timeouts.keepAliveMs, timeouts.bodyMs]);
    const server = net.createServer({ allowHalfOpen: true });
    this.server = server;
    server.on('listening', () => acceptHandles(server, (handle) => this.accept(handle, null, null)));
    server.on('connection', (socket: net.Socket) => this.adopt(socket));
    takeHandedHandles(server, (handle, socket, buffered) => this.accept(handle, socket, buffered));
  }

  /** A connected socket handed to us (handoff dispatch). */
  private adopt(socket: net.Socket): void {
    const taken = takeHandle(socket);
    if (taken === null) socket.destroy();
    else this.accept(taken.handle, socket, taken.buffered);
  }

  private accept(handle: StreamHandle, socket: net.Socket | null, buffered: Buffer | null): void {
    this.acceptedCount++;
    if (this.maxConnections > 0 && this.live.length >= this.maxConnections) {
      refuseOverCapacity(handle, socket);
      return;
    }
    if (this.draining) {
      closeHandle(handle);
      socket?.destroy();
      return;
    }
    const connection = new Connection(handle, socket, this, Date.now());
    connection.slot = this.live.length;
    this.live.push(connection);
    connection.start(buffered);
    if (this.sweeper === null && this.live.length > 0) {
      this.sweeper = setInterval(() => this.sweep(), this.sweepEveryMs);
      this.sweeper.unref();
    }
  }

  /** Stops itself once no connection is left (not at each last close: one per request without keep-alive). */
  private sweep(): void {
    const live = this.live;
    if (live.length === 0) {
      clearInterval(this.sweeper!);
      this.sweeper = null;
      return;
    }
    const now = Date.now();
    // Downwards: a connection that closes is replaced by the last one, already visited.
    for (let k = live.length - 1; k >= 0; k--) live[k]?.checkTimeouts(now);
  }

  newParser(sink: ParserSink): RequestParser {
    return new RequestParser(sink, this.limits);
  }

  invoke(req: FastRequest, res: FastResponse, connection: Connection): void {
    if (this.requestId) {
      const id = requestIdFor(req.head.field(REQUEST_ID_HEADER));
      req.head.requestId = id;
      res.requestId = id;
    }
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

  responded(): void {
    this.served++;
  }

  closed(connection: Connection): void {
    const live = this.live;
    const last = live.pop()!;
    if (last !== connection) {
      live[connection.slot] = last;
      last.slot = connection.slot;
    }
    if (live.length > 0 || this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }

  connections(): number {
    return this.live.length;
  }

  accepted(): number {
    return this.acceptedCount;
  }

  requests(): number {
    return this.served;
  }

  drain(): Promise<void> {
    this.draining = true;
    const live = this.live;
    if (live.length === 0) return Promise.resolve();
    const done = new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    for (let k = live.length - 1; k >= 0; k--) live[k]?.drain();
    return done;
  }

  destroyAll(): void {
    const live = this.live;
    for (let k = live.length - 1; k >= 0; k--) live[k]?.destroy();
  }
}

export function createFastEngine(handler: Handler, options: EngineOptions): Engine {
  requireStreamBinding('the fast engine', '--engine node');
  return new FastEngine(handler, options);
}
