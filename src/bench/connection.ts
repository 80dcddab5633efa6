// One HTTP/1.x client connection of the load generator: the hot path. A small state machine around
// a transport (transport.ts: the bare libuv TCP handle, or TLS): take requests from the loop, write them (pre-encoded,
// pipelined as one write), parse the replies straight out of the loop's shared receive buffer,
// record each outcome, then go again on the same connection (keep-alive) or a fresh one (webbench's default).
// `performance` from node:perf_hooks: the global is an accessor, a slow IC on every read.
import { performance } from 'node:perf_hooks';
import os from 'node:os';
import { ResponseParser, NEED_MORE, BAD_RESPONSE } from './response_parser.ts';
import type { StreamEvents, Transport } from './transport.ts';
import type { LoadLoop } from './load_loop.ts';

export const KIND_REFUSED = 0;
export const KIND_RESET = 1;
export const KIND_TIMEOUT = 2;
export const KIND_BAD_RESPONSE = 3;
export const KIND_OTHER = 4;

const { ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT } = os.constants.errno;

/** A libuv error (negative errno) as the kind of failure the report shows. */
export function errorKind(errno: number): number {
  switch (-errno) {
    case ECONNREFUSED:
      return KIND_REFUSED;
    case ECONNRESET:
    case EPIPE:
      return KIND_RESET;
    case ETIMEDOUT:
      return KIND_TIMEOUT;
    default:
      return KIND_OTHER;
  }
}

export class Connection implements StreamEvents {
  /** Requests taken from the loop and not yet answered (written, or waiting for the connect). */
  inFlight = 0;
  /** When the current attempt began (connect or write): what --timeout is measured from. */
  attemptAt = 0;

  private readonly loop: LoadLoop;
  private readonly transport: Transport;
  private readonly parser = new ResponseParser();
  private handle: object | null = null;
  private connected = false;
  /** When the in-flight requests count as started: the write, or with --rate their scheduled time. */
  private startedAt = 0;
  /** --rate: when this connection's next request is due (performance.now() ms). */
  private dueAt = 0;
  private dueTimer: NodeJS.Timeout | null = null;
  private readonly onDue = (): void => {
    this.dueTimer = null;
    this.start();
  };

  constructor(loop: LoadLoop, transport: Transport, firstDueAt: number) {
    this.loop = loop;
    this.transport = transport;
    this.dueAt = firstDueAt;
  }

  /** Sends the next request(s) if the loop has any left and this connection is free. */
  start(now = performance.now()): void {
    const loop = this.loop;
    if (this.inFlight > 0 || loop.stopped) return;
    let count: number;
    let startedAt = now;
    if (loop.rateIntervalMs > 0) {
      if (this.dueAt > now) {
        if (this.dueTimer === null) this.dueTimer = setTimeout(this.onDue, this.dueAt - now);
        return;
      }
      count = loop.take(1);
      if (count === 0) return;
      // wrk2's correction for coordinated omission: latency counts from when the request was due.
      startedAt = this.dueAt;
      this.dueAt += loop.rateIntervalMs;
    } else {
      count = loop.take(loop.plan.pipeline);
      if (count === 0) return;
    }
    this.inFlight = count;
    this.startedAt = startedAt;
    this.attemptAt = now;
    this.parser.reset(loop.plan.headRequest, loop.plan.http09);
    if (this.handle === null) this.connect();
    else if (this.connected) this.write();
  }

  /** Drops the connection without recording anything (end of run). */
  stop(): void {
    if (this.dueTimer !== null) clearTimeout(this.dueTimer);
    this.dueTimer = null;
    this.close();
  }

  /** The loop's sweep found the attempt older than --timeout. */
  timedOut(): void {
    this.fail(KIND_TIMEOUT);
  }

  private connect(): void {
    const loop = this.loop;
    const plan = loop.plan;
    // Nagle only matters when a connection carries more than one write.
    const handle = this.transport.connect(plan.address, plan.port, plan.keepAlive, loop.readBuffer, this);
    if (typeof handle === 'number') {
      this.fail(errorKind(handle));
      return;
    }
    this.handle = handle;
    this.connected = false;
  }

  onConnect(handle: object): void {
    if (handle !== this.handle) return;
    this.connected = true;
    if (this.inFlight > 0) this.write();
  }

  onEnd(handle: object): void {
    if (handle === this.handle) this.ended();
  }

  onFailure(handle: object, errno: number): void {
    if (handle === this.handle) this.fail(errorKind(errno));
  }

  onWritten(handle: object): void {
    if (handle === this.handle && this.loop.plan.force) this.forced();
  }

  private write(): void {
    const loop = this.loop;
    const bytes = this.inFlight === loop.plan.pipeline ? loop.batch : loop.batch.subarray(0, this.inFlight * loop.plan.request.length);
    const result = this.transport.write(this.handle!, bytes);
    if (result < 0) this.fail(errorKind(result));
    else if (result === 1 && loop.plan.force) this.forced();
  }

  /** webbench's -f: a request counts once it is handed to the kernel; the reply is never read. */
  private forced(): void {
    const count = this.inFlight;
    this.inFlight = 0;
    for (let i = 0; i < count; i++) this.loop.succeeded(0, this.startedAt);
    this.close();
    this.start();
  }

  onData(handle: object, nread: number): void {
    if (handle !== this.handle) return;
    const loop = this.loop;
    loop.received(nread);
    if (loop.plan.force) return;
    const buf = loop.readBuffer;
    let pos = 0;
    while (pos < nread) {
      if (this.inFlight === 0) return this.fail(KIND_BAD_RESPONSE); // bytes nobody asked for
      const next = this.parser.execute(buf, pos, nread);
      if (next === NEED_MORE) return;
      if (next === BAD_RESPONSE) return this.fail(KIND_BAD_RESPONSE);
      pos = next;
      if (!this.responseComplete(pos < nread)) return;
    }
  }

  /**
   * Records the response just parsed and moves on. Returns true while this socket carries
   * more responses to parse; false once it was closed or handed new requests.
   */
  private responseComplete(moreBytes: boolean): boolean {
    const loop = this.loop;
    const now = loop.succeeded(this.parser.statusCode, this.startedAt);
    if (loop.stopped) return false;
    this.inFlight--;
    const reusable = this.parser.keepAlive && loop.plan.keepAlive;
    if (this.inFlight > 0) {
      if (reusable) {
        this.parser.reset(loop.plan.headRequest, loop.plan.http09);
        return true;
      }
      // The server closes after this response: the rest of the batch goes out again elsewhere.
      loop.giveBack(this.inFlight);
      this.inFlight = 0;
    } else if (moreBytes) {
      this.fail(KIND_BAD_RESPONSE);
      return false;
    }
    if (!reusable) this.close();
    this.start(now);
    return false;
  }

  private ended(): void {
    if (this.inFlight === 0) {
      this.close(); // an idle keep-alive connection the server let go
      this.start();
      return;
    }
    if (this.parser.finishAtEof()) {
      this.responseComplete(false);
      return;
    }
    // Closed before a byte of the reply arrived is a reset as far as the client can tell;
    // closed in the middle of one is a truncated, bad response.
    this.fail(this.parser.started ? KIND_BAD_RESPONSE : KIND_RESET);
  }

  private fail(kind: number): void {
    const count = this.inFlight;
    this.inFlight = 0;
    this.close();
    this.loop.failed(kind, count);
    this.start();
  }

  private close(): void {
    if (this.handle === null) return;
    this.transport.close(this.handle);
    this.handle = null;
    this.connected = false;
  }
}
