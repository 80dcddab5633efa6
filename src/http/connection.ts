// One client connection: bytes in through the parser, handlers called per request, responses out
// in request order, and the connection's timeouts (checked by the engine's sweep, not per-request timers).
//
// Responses queue in request order; only the first writes to the socket, the others buffer until
// their turn (pipelining). Writes made while a read is processed are corked together, so a
// pipelined batch answered synchronously leaves in one write; writes from async handlers are
// corked until the end of the tick.
import type net from 'node:net';
import { HerdError } from '../errors.ts';
import { RequestParser } from './parser.ts';
import type { ParseFailure, ParserSink } from './parser.ts';
import { BODY_NONE } from './request_head.ts';
import type { RequestHead } from './request_head.ts';
import { FastRequest } from './request.ts';
import { FastResponse } from './response.ts';
import type { ResponseChannel, EncodedResponseCache } from './response.ts';

/** What a connection needs from its engine. */
export interface ConnectionHost {
  readonly draining: boolean;
  readonly keepAliveLines: string;
  readonly encodedCache: EncodedResponseCache;
  readonly requestTimeoutMs: number;
  readonly headersTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  newParser(sink: ParserSink): RequestParser;
  invoke(req: FastRequest, res: FastResponse, connection: Connection): void;
  completed(res: FastResponse, head: RequestHead | null, connection: Connection): void;
  closed(connection: Connection): void;
}

/** How long a closing connection may keep sending us bytes before it is destroyed. */
const LINGER_MS = 2000;
/** Responses waiting behind the first before the connection stops reading. */
const MAX_QUEUED = 32;

export class Connection implements ParserSink, ResponseChannel {
  readonly socket: net.Socket;
  private readonly host: ConnectionHost;
  private readonly parser: RequestParser;
  private readonly queue: FastResponse[] = [];
  private readonly heads: (RequestHead | null)[] = [];
  /** The request whose body is still arriving. */
  private receiving: FastRequest | null = null;
  private servedAny = false;
  /** When we started waiting for a request head (accept, or the last response). */
  private waitingSince: number;
  /** When the first byte of the current unfinished head arrived; 0 when none. */
  private headStartedAt = 0;
  private closingSince = 0;
  private closed = false;
  private inRead = false;
  private tickCorked = false;
  private paused = false;
  private peerEnded = false;
  private noDelay = false;
  private remote: string | undefined;

  constructor(socket: net.Socket, host: ConnectionHost, now: number) {
    this.socket = socket;
    this.host = host;
    this.parser = host.newParser(this);
    this.waitingSince = now;
    // A client may half-close right after its request (shutdown(SHUT_WR)); it still gets its answers.
    socket.allowHalfOpen = true;
    socket.on('data', (buf: Buffer) => this.onData(buf));
    socket.on('end', () => this.onPeerEnd());
    socket.on('drain', () => this.onDrain());
    socket.on('error', () => {}); // resets and the like: 'close' follows and cleans up
    socket.on('close', () => this.onClose());
    socket.resume(); // handed-off sockets arrive paused
  }

  get keepAliveLines(): string {
    return this.host.keepAliveLines;
  }

  get encodedCache(): EncodedResponseCache {
    return this.host.encodedCache;
  }

  get remoteAddress(): string {
    if (this.remote === undefined) this.remote = this.socket.remoteAddress ?? '-';
    return this.remote;
  }

  private onData(buf: Buffer): void {
    if (this.closingSince !== 0) return; // lingering close: read and drop
    if (this.queue.length === 0 && this.headStartedAt === 0 && this.parser.isIdle()) this.headStartedAt = Date.now();
    this.inRead = true;
    this.socket.cork();
    this.parser.execute(buf);
    this.socket.uncork();
    this.inRead = false;
    if (!this.paused && !this.closed && (this.queue.length > MAX_QUEUED || this.socket.writableNeedDrain)) {
      this.paused = true;
      this.socket.pause();
    }
  }

  private onDrain(): void {
    if (this.paused && this.queue.length <= MAX_QUEUED) {
      this.paused = false;
      this.socket.resume();
    }
    const first = this.queue[0];
    if (first !== undefined && first.hasListeners) first.fire('drain');
  }

  // ParserSink

  onHead(head: RequestHead): void {
    const now = Date.now();
    this.headStartedAt = 0;
    this.servedAny = true;
    const draining = this.host.draining;
    const req = new FastRequest(head);
    const res = new FastResponse(this, head.method === 'HEAD', head.versionMinor, head.keepAlive && !draining, head.expectContinue, now);
    this.queue.push(res);
    this.heads.push(head);
    if (head.bodyKind === BODY_NONE) req.endBody();
    else this.receiving = req;
    if (draining) this.parser.finishCurrentMessage();
    if (this.queue.length === 1) res.activate();
    this.host.invoke(req, res, this);
  }

  onBody(chunk: Buffer): void {
    if (this.receiving !== null) this.receiving.pushBody(chunk);
  }

  onMessageEnd(): void {
    if (this.receiving !== null) {
      this.receiving.endBody();
      this.receiving = null;
    }
  }

  onParseError(failure: ParseFailure): void {
    const receiving = this.receiving;
    if (receiving !== null) {
      // The body of a request already handed to its handler went bad: that request's answer becomes the error.
      this.receiving = null;
      receiving.failBody(new HerdError(`request body rejected: ${failure.reason}`, 'HERD_BAD_BODY'));
      const res = this.queue[this.queue.length - 1];
      if (res.started) this.socket.destroy();
      else res.supersede(failure.status, failure.reason, true);
      return;
    }
    this.respondError(failure.status, failure.reason);
  }

  /** An answer from the engine itself (bad request, timeout), queued after the others; closes after. */
  private respondError(status: number, reason: string): void {
    this.parser.stop();
    const res = new FastResponse(this, false, 1, false, false, Date.now());
    this.queue.push(res);
    this.heads.push(null);
    if (this.queue.length === 1) res.activate();
    res.supersede(status, reason, true);
  }

  // ResponseChannel

  send(data: Buffer): boolean {
    if (this.closed) return false;
    if (!this.inRead && !this.tickCorked) {
      this.tickCorked = true;
      this.socket.cork();
      process.nextTick(uncorkAtTickEnd, this);
    }
    return this.socket.write(data);
  }

  uncorkTick(): void {
    this.tickCorked = false;
    this.socket.uncork();
  }

  responseDone(done: FastResponse): void {
    let res: FastResponse | undefined = done;
    while (res !== undefined) {
      this.queue.shift();
      const head = this.heads.shift() ?? null;
      this.host.completed(res, head, this);
      if (res.hasListeners) {
        res.fire('finish');
        res.fire('close');
      }
      if (res.closeAfter) {
        this.closeGracefully();
        return;
      }
      res = this.queue[0];
      if (res !== undefined && !res.activate()) return;
    }
    // Nothing left to answer.
    const now = Date.now();
    this.waitingSince = now;
    if (!this.parser.isIdle()) this.headStartedAt = now;
    if (this.peerEnded || (this.host.draining && (this.parser.isIdle() || this.parser.isStopped()))) {
      this.closeGracefully();
      return;
    }
    this.useNoDelay();
    if (this.paused && !this.socket.writableNeedDrain) {
      this.paused = false;
      this.socket.resume();
    }
  }

  /**
   * Nagle off, as nginx does: once the connection is kept alive or a response streams, so a small
   * write never waits for the client's delayed ACK. A one-request connection never pays the syscall.
   */
  useNoDelay(): void {
    if (this.noDelay || this.closed) return;
    this.noDelay = true;
    this.socket.setNoDelay(true);
  }

  /** The client sent FIN: no more requests; answer those in progress, then close. */
  private onPeerEnd(): void {
    this.peerEnded = true;
    this.parser.stop();
    if (this.receiving !== null) {
      this.receiving.failBody(new HerdError('client closed before the body arrived', 'HERD_BODY_ABORTED'));
      this.receiving = null;
    }
    if (this.queue.length === 0) this.closeGracefully();
    else this.announceCloseOnLast();
  }

  /** The last queued answer says Connection: close, if it has not started yet. */
  private announceCloseOnLast(): void {
    const last = this.queue[this.queue.length - 1];
    if (last !== undefined && !last.started) last.closeAfter = true;
  }

  /** A handler threw or its promise rejected. */
  handlerFailed(res: FastResponse, error: unknown, method: string, url: string): void {
    // A response the engine already replaced (bad body, timeout), or a body the client cut short:
    // the handler failing is a consequence, not news.
    if (res.writableEnded && !res.started) return;
    const bodyLost = error instanceof HerdError && error.code === 'HERD_BODY_ABORTED';
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (!bodyLost) console.error(`herd: handler failed on ${method} ${url}: ${detail}`);
    if (this.closed || res.writableEnded) return;
    if (res.started) this.socket.destroy(); // part of the answer is out: only closing tells the client
    else if (bodyLost) res.supersede(400, 'request body incomplete', true);
    else res.supersede(500, '', false);
  }

  /** Called by the engine's sweep. */
  checkTimeouts(now: number): void {
    if (this.closed) return;
    if (this.closingSince !== 0) {
      if (now - this.closingSince >= LINGER_MS) this.socket.destroy();
      return;
    }
    const host = this.host;
    const first = this.queue[0];
    if (first !== undefined) {
      if (host.requestTimeoutMs > 0 && now - first.startedAt >= host.requestTimeoutMs) {
        if (first.started) {
          this.socket.destroy();
        } else {
          this.parser.stop();
          if (this.receiving !== null) {
            this.receiving.failBody(new HerdError('request timed out', 'HERD_REQUEST_TIMEOUT'));
            this.receiving = null;
          }
          first.supersede(503, 'request timed out', true);
        }
      }
      return;
    }
    if (this.headStartedAt !== 0 && !this.parser.isIdle()) {
      if (host.headersTimeoutMs > 0 && now - this.headStartedAt >= host.headersTimeoutMs) this.respondError(408, 'request head not received in time');
      return;
    }
    const limit = this.servedAny ? host.keepAliveTimeoutMs : host.headersTimeoutMs;
    if (limit > 0 && now - this.waitingSince >= limit) this.closeGracefully();
  }

  /** Graceful stop: close now when idle, else after the request in progress. */
  drain(): void {
    if (this.closed || this.closingSince !== 0) return;
    if (this.queue.length === 0 && this.parser.isIdle()) {
      this.closeGracefully();
      return;
    }
    this.parser.finishCurrentMessage();
    this.announceCloseOnLast();
  }

  /** FIN after what is queued; keep reading (and dropping) so the client gets our answer, not a reset. */
  closeGracefully(): void {
    if (this.closingSince !== 0 || this.closed) return;
    this.closingSince = Date.now();
    this.parser.stop();
    if (this.receiving !== null) {
      this.receiving.failBody(new HerdError('connection closed before the body arrived', 'HERD_BODY_ABORTED'));
      this.receiving = null;
    }
    if (this.paused) this.socket.resume();
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }

  private onClose(): void {
    if (this.closed) return;
    this.closed = true;
    this.parser.stop();
    if (this.receiving !== null) {
      this.receiving.failBody(new HerdError('connection closed before the body arrived', 'HERD_BODY_ABORTED'));
      this.receiving = null;
    }
    for (const res of this.queue) if (res.hasListeners) res.fire('close');
    this.queue.length = 0;
    this.heads.length = 0;
    this.host.closed(this);
  }
}

function uncorkAtTickEnd(connection: Connection): void {
  connection.uncorkTick();
}
