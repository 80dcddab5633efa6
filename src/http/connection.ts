// One client connection: bytes in through the parser, handlers called per request, responses out
// in request order, the lingering close, and the access record of each response (the connection
// has its facts: the request head, the response, the peer, the clock of the read).
// It talks to the libuv handle directly (src/uv/stream_handle.ts), not through a net.Socket.
//
// Responses queue in request order; only the first writes, the others hold their output until
// their turn (pipelining). What they send is gathered by the output queue (output_queue.ts) while
// a read is processed and leaves in one write, so a pipelined batch answered synchronously is one
// system call; output from async handlers is gathered until the end of the tick. The timeouts are
// fields (connection_timeouts.ts), checked by the engine's sweep, not per-request timers.
import type net from 'node:net';
import { HerdError } from '../errors.ts';
import type { AccessRecord } from '../logd/access_record.ts';
import type { RequestParser } from './parser.ts';
import type { ParseFailure, ParserSink } from './parser.ts';
import { BODY_NONE } from './request_head.ts';
import type { RequestHead } from './request_head.ts';
import { FastRequest } from './request.ts';
import { FastResponse } from './response.ts';
import type { ResponseChannel } from './response.ts';
import type { HeadRenderer } from './head_renderer.ts';
import { OUTPUT_HIGH_WATER, OutputQueue } from './output_queue.ts';
import { ConnectionTimeouts } from './connection_timeouts.ts';
import type { TimeoutLimits } from './connection_timeouts.ts';
import { attachHandle, closeHandle, pauseReading, peerAddress, resumeReading, setNoDelay, shutdownHandle } from '../uv/stream_handle.ts';
import type { HandleOwner, StreamHandle } from '../uv/stream_handle.ts';

/** What a connection needs from its engine. */
export interface ConnectionHost {
  readonly draining: boolean;
  readonly renderer: HeadRenderer;
  readonly timeouts: TimeoutLimits;
  /** Access logging: each finished response's record; absent when off. */
  readonly onAccess: ((record: AccessRecord) => void) | undefined;
  /** --metrics: each finished response; absent when off. */
  readonly onResponse: ((method: string, status: number, bodyBytes: number, durationMs: number) => void) | undefined;
  /** --trust-proxy: the logged client from the peer and X-Forwarded-For. */
  readonly clientAddress: ((peer: string, forwardedFor: string | string[] | undefined) => string) | undefined;
  /** One line per response the engine cut by a timeout. */
  cut(line: string): void;
  newParser(sink: ParserSink): RequestParser;
  invoke(req: FastRequest, res: FastResponse, connection: Connection): void;
  /** A response is done (counted for the status). */
  responded(): void;
  closed(connection: Connection): void;
}

/** Responses waiting behind the first before the connection stops reading. */
const MAX_QUEUED = 32;

export class Connection implements ParserSink, ResponseChannel, HandleOwner {
  /** Where the engine keeps this connection in its list. */
  slot = -1;
  private handle: StreamHandle | null;
  /** A connection handed over as a net.Socket: destroyed when we close, so its 'close' listeners learn. */
  private readonly socket: net.Socket | null;
  private readonly host: ConnectionHost;
  private readonly parser: RequestParser;
  /** Responses in request order; the first is the one writing. */
  private readonly queue: FastResponse[] = [];
  private readonly output = new OutputQueue();
  private readonly timeouts: ConnectionTimeouts;
  /** The request whose body is still arriving, and its response. */
  private receiving: FastRequest | null = null;
  private receivingRes: FastResponse | null = null;
  private servedAny = false;
  /** Closing: the client has said all it will say, so close without waiting for its FIN. */
  private closeAtOnce = false;
  /** Closing: everything is written and FIN sent (or the handle closed). */
  private outputEnded = false;
  private closed = false;
  private inRead = false;
  /** Date.now() when the current read began: one clock read serves all its requests. */
  private readTime = 0;
  private tickFlushScheduled = false;
  private paused = false;
  private peerEnded = false;
  private noDelay = false;
  private remote: string | undefined;

  constructor(handle: StreamHandle, socket: net.Socket | null, host: ConnectionHost, now: number) {
    this.handle = handle;
    this.socket = socket;
    this.host = host;
    this.parser = host.newParser(this);
    this.timeouts = new ConnectionTimeouts(host.timeouts, now);
  }

  /** Starts reading; `buffered` is what a handed-over socket had already read. */
  start(buffered: Buffer | null): void {
    const err = attachHandle(this.handle!, this);
    if (err < 0) {
      this.destroy();
      return;
    }
    if (buffered !== null && buffered.length > 0) this.onData(buffered, buffered.length);
  }

  get renderer(): HeadRenderer {
    return this.host.renderer;
  }

  /** The time, read once per read while one is processed (Date.now() is a runtime call). */
  now(): number {
    return this.inRead ? this.readTime : Date.now();
  }

  get remoteAddress(): string {
    if (this.remote === undefined) this.remote = this.handle === null ? '-' : peerAddress(this.handle);
    return this.remote;
  }

  private get closing(): boolean {
    return this.timeouts.closingSince !== 0;
  }

  // HandleOwner

  onData(data: Buffer, length: number): void {
    if (this.closing) return; // lingering close: read and drop
    this.inRead = true;
    this.readTime = Date.now();
    this.parser.execute(data, length);
    this.inRead = false;
    // The read buffer is reused by the next read: heads still in use get their own copy.
    const queue = this.queue;
    for (let k = 0; k < queue.length; k++) queue[k].head?.detach();
    if (queue.length === 0 && this.timeouts.headStartedAt === 0 && !this.parser.isIdle()) this.timeouts.headStartedAt = this.readTime;
    this.flush();
    if (!this.paused && this.handle !== null && !this.closing && (queue.length > MAX_QUEUED || this.output.bytesPending >= OUTPUT_HIGH_WATER)) {
      this.paused = true;
      pauseReading(this.handle);
    }
  }

  /** The client sent FIN: no more requests; answer those in progress, then close. */
  onEnd(): void {
    this.peerEnded = true;
    if (this.closing) {
      if (this.outputEnded) this.destroy();
      return;
    }
    this.parser.stop();
    this.abandonBody('client closed before the body arrived', 'HERD_BODY_ABORTED');
    if (this.queue.length === 0) this.closeGracefully(true);
    else this.announceCloseOnLast();
  }

  onFailure(): void {
    this.destroy(); // a reset and the like: nothing more can be said on this connection
  }

  onWritten(bytes: number): void {
    if (this.output.written(bytes)) this.outputSettled();
  }

  // ParserSink

  onHead(head: RequestHead): void {
    const now = this.readTime;
    this.timeouts.headStartedAt = 0;
    this.servedAny = true;
    const draining = this.host.draining;
    const req = new FastRequest(head);
    const res = new FastResponse(this, head, head.keepAlive && !draining, now);
    this.queue.push(res);
    if (head.bodyKind === BODY_NONE) {
      req.endBody();
    } else {
      this.receiving = req;
      this.receivingRes = res;
      this.timeouts.bodyMovedAt = now;
    }
    if (draining) this.parser.finishCurrentMessage();
    if (this.queue.length === 1) res.activate();
    this.host.invoke(req, res, this);
  }

  onBody(chunk: Buffer): void {
    // A copy: the chunk is a view of the read buffer and the handler reads it later.
    if (this.receiving !== null) {
      this.timeouts.bodyMovedAt = this.readTime;
      this.receiving.pushBody(Buffer.from(chunk));
    }
  }

  onMessageEnd(): void {
    if (this.receiving !== null) {
      this.receiving.endBody();
      this.receiving = null;
      // --request-timeout bounds the handler's answer, which starts once the body is in.
      this.receivingRes!.waitingSince = this.readTime;
      this.receivingRes = null;
    }
  }

  onParseError(failure: ParseFailure): void {
    const res = this.receivingRes;
    if (res !== null) {
      // The body of a request already handed to its handler went bad: that request's answer becomes the error.
      this.abandonBody(`request body rejected: ${failure.reason}`, 'HERD_BAD_BODY');
      if (res.started) this.destroy();
      else res.supersede(failure.status, failure.reason, true);
      return;
    }
    this.respondError(failure.status, failure.reason);
  }

  /** The body being received will never complete: its handler's reads fail with this. */
  private abandonBody(message: string, code: string): void {
    const receiving = this.receiving;
    if (receiving === null) return;
    this.receiving = null;
    this.receivingRes = null;
    receiving.failBody(new HerdError(message, code));
  }

  /** An answer from the engine itself (bad request, timeout), queued after the others; closes after. */
  private respondError(status: number, reason: string): void {
    this.parser.stop();
    const res = new FastResponse(this, null, false, this.now());
    this.queue.push(res);
    if (this.queue.length === 1) res.activate();
    res.supersede(status, reason, true);
  }

  // ResponseChannel

  send(data: Buffer): boolean {
    if (this.handle === null) return false;
    if (!this.inRead && !this.tickFlushScheduled) {
      this.tickFlushScheduled = true;
      process.nextTick(flushAtTickEnd, this);
    }
    return this.output.add(data);
  }

  /** Hands the gathered output to the kernel in one write. */
  flush(): void {
    const handle = this.handle;
    if (handle === null) return;
    if (this.output.flush(handle) < 0) {
      this.destroy();
      return;
    }
    if (this.output.settled) this.outputSettled();
  }

  tickFlush(): void {
    this.tickFlushScheduled = false;
    this.flush();
  }

  /** Everything written so far is in the kernel. */
  private outputSettled(): void {
    if (this.output.takeDrain()) this.onDrain();
    if (this.closing && !this.outputEnded && this.output.empty && this.handle !== null) this.endOutput();
  }

  private onDrain(): void {
    if (this.paused && this.queue.length <= MAX_QUEUED && !this.closing && this.handle !== null) {
      this.paused = false;
      resumeReading(this.handle);
    }
    const first = this.queue[0];
    if (first !== undefined && first.hasListeners) first.fire('drain');
  }

  responseDone(done: FastResponse): void {
    const queue = this.queue;
    let res: FastResponse | undefined = done;
    while (res !== undefined) {
      if (queue.length === 1) queue.pop(); // pop is inlined; shift is a runtime call
      else queue.shift();
      const head = res.head;
      this.report(res, head);
      if (res.hasListeners) {
        res.fire('finish');
        res.fire('close');
      }
      if (res.closeAfter) {
        // A request that said it was the last, body and all, leaves the client nothing more to send.
        this.closeGracefully(head !== null && !head.keepAlive && this.receiving === null);
        return;
      }
      res = queue[0];
      if (res !== undefined && !res.activate()) return;
    }
    // Nothing left to answer.
    const now = this.now();
    this.timeouts.waitingSince = now;
    if (!this.parser.isIdle()) this.timeouts.headStartedAt = now;
    if (this.peerEnded || (this.host.draining && (this.parser.isIdle() || this.parser.isStopped()))) {
      this.closeGracefully(this.peerEnded);
      return;
    }
    this.useNoDelay();
    if (this.paused && this.output.bytesPending < OUTPUT_HIGH_WATER && this.handle !== null) {
      this.paused = false;
      resumeReading(this.handle);
    }
  }

  /** A response is done: counted, and given to --metrics and the access log with what this connection knows. */
  private report(res: FastResponse, head: RequestHead | null): void {
    const host = this.host;
    host.responded();
    const onResponse = host.onResponse;
    const onAccess = host.onAccess;
    if (onResponse === undefined && onAccess === undefined) return;
    const durationMs = this.now() - res.startedAt;
    if (onResponse !== undefined) onResponse(head?.method ?? '-', res.statusCode, res.bodyBytes, durationMs);
    if (onAccess === undefined) return;
    const peer = this.remoteAddress;
    onAccess({
      remote: host.clientAddress === undefined ? peer : host.clientAddress(peer, head?.field('x-forwarded-for')),
      time: res.startedAt,
      method: head?.method ?? '-',
      url: head?.url ?? '-',
      httpVersion: head?.httpVersion ?? '1.1',
      status: res.statusCode,
      bytes: res.bodyBytes,
      referer: head?.referer(),
      userAgent: head?.userAgent(),
      durationMs,
      requestId: head?.requestId ?? undefined,
    });
  }

  /**
   * Nagle off, as nginx does: once the connection is kept alive or a response streams, so a small
   * write never waits for the client's delayed ACK. A one-request connection never pays the syscall.
   */
  useNoDelay(): void {
    if (this.noDelay || this.handle === null) return;
    this.noDelay = true;
    setNoDelay(this.handle);
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
    if (error instanceof HerdError && (error.code === 'HERD_BODY_TIMEOUT' || error.code === 'HERD_REQUEST_TIMEOUT')) return; // the engine answered (and logged) it
    const bodyLost = error instanceof HerdError && error.code === 'HERD_BODY_ABORTED';
    const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
    if (!bodyLost) console.error(`herd: handler failed on ${method} ${url}: ${detail}`);
    if (this.closed || res.writableEnded) return;
    if (res.started) this.destroy(); // part of the answer is out: only closing tells the client
    else if (bodyLost) res.supersede(400, 'request body incomplete', true);
    else res.supersede(500, '', false);
  }

  /** Called by the engine's sweep: acts on the first limit passed. */
  checkTimeouts(now: number): void {
    if (this.closed) return;
    const timeouts = this.timeouts;
    if (this.closing) {
      if (timeouts.lingerOver(now)) this.destroy();
      return;
    }
    // The body may still be arriving after its answer went out (a handler that did not read it).
    if (this.receivingRes !== null && timeouts.bodyStalled(now)) {
      this.cutBody(now);
      return;
    }
    const first = this.queue[0];
    if (first !== undefined) {
      // A response whose request body is still arriving is bounded by --body-timeout, not this.
      if (first !== this.receivingRes && timeouts.answerLate(first.waitingSince, now)) this.cutAnswer(first, now);
      return;
    }
    if (timeouts.headStartedAt !== 0 && !this.parser.isIdle()) {
      if (timeouts.headLate(now)) this.respondError(408, 'request head not received in time');
      return;
    }
    if (timeouts.idleOver(now, this.servedAny)) this.closeGracefully(false);
  }

  /** --request-timeout: 503 and close, or only close when the answer has begun. */
  private cutAnswer(res: FastResponse, now: number): void {
    const answered = !res.started;
    this.host.cut(`${this.describe(res)}: ${answered ? 503 : 'connection closed'}: no response within ${seconds(now - res.waitingSince)} s (--request-timeout)`);
    if (!answered) {
      this.destroy();
      return;
    }
    this.parser.stop();
    this.abandonBody('request timed out', 'HERD_REQUEST_TIMEOUT');
    res.supersede(503, 'request timed out', true);
  }

  /** --body-timeout: the body stopped arriving. 408 and close, or only close when the answer has begun. */
  private cutBody(now: number): void {
    const res = this.receivingRes!;
    const answered = !res.started && !res.writableEnded;
    this.host.cut(`${this.describe(res)}: ${answered ? 408 : 'connection closed'}: no request body bytes for ${seconds(now - this.timeouts.bodyMovedAt)} s (--body-timeout)`);
    this.parser.stop();
    this.abandonBody('no request body bytes in time (--body-timeout)', 'HERD_BODY_TIMEOUT');
    if (answered) res.supersede(408, 'request body not received in time', true);
    else this.destroy();
  }

  /** 'METHOD /url from ADDRESS', as the node engine's cut lines begin. */
  private describe(res: FastResponse): string {
    const head = res.head;
    return `${head?.method ?? '-'} ${head?.url ?? '-'} from ${this.remoteAddress}`;
  }

  /**
   * Graceful stop: close now when idle, else after the request in progress. A connection that has
   * not sent its first request yet is not idle: it was accepted just before the drain and its
   * request is on its way (or unread in the socket). Closing it would fail that request (a reset
   * under connection-per-request load); it is answered with `Connection: close` instead, and one
   * that never sends is closed by the head timeout.
   */
  drain(): void {
    if (this.closed || this.closing) return;
    if (!this.servedAny && this.queue.length === 0 && this.parser.isIdle()) return;
    if (this.queue.length === 0 && this.parser.isIdle()) {
      this.closeGracefully(false);
      return;
    }
    this.parser.finishCurrentMessage();
    this.announceCloseOnLast();
  }

  /**
   * Close once what is queued is written. `clientDone`: the client has nothing more to send, so
   * the handle closes right away, as nginx does. Otherwise FIN, then keep reading (and dropping)
   * until the client's FIN, so it gets our answer rather than a reset for bytes we never read.
   */
  closeGracefully(clientDone: boolean): void {
    if (this.closing || this.closed) return;
    this.timeouts.closingSince = this.now();
    this.closeAtOnce = clientDone;
    this.parser.stop();
    this.abandonBody('connection closed before the body arrived', 'HERD_BODY_ABORTED');
    if (this.paused && this.handle !== null) {
      this.paused = false;
      resumeReading(this.handle);
    }
    if (!this.inRead) this.flush(); // within a read, the flush at its end does it
  }

  /** Called once all output is in the kernel. */
  private endOutput(): void {
    this.outputEnded = true;
    // Bytes we read after the last request and never answered: closing now would reset them.
    if (this.peerEnded || (this.closeAtOnce && !this.parser.hasIgnoredInput())) {
      this.destroy();
      return;
    }
    this.timeouts.closingSince = this.now(); // the linger time starts with our FIN
    if (shutdownHandle(this.handle!) < 0) this.destroy();
  }

  destroy(): void {
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    closeHandle(handle);
    this.onClose();
    if (this.socket !== null) this.socket.destroy();
  }

  private onClose(): void {
    this.closed = true;
    this.parser.stop();
    this.abandonBody('connection closed before the body arrived', 'HERD_BODY_ABORTED');
    this.output.discard();
    const queue = this.queue;
    if (queue.length > 0) {
      for (const res of queue) if (res.hasListeners) res.fire('close');
      queue.length = 0;
    }
    this.host.closed(this);
  }
}

function seconds(ms: number): string {
  return (ms / 1000).toFixed(1);
}

function flushAtTickEnd(connection: Connection): void {
  connection.tickFlush();
}
