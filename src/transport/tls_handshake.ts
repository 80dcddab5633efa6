// The fast engine's TLS: each connection's handle wrapped in TLS (uv/tls_handle.ts), the handshake
// left to OpenSSL with no JavaScript on the way, and the handle handed to the engine with the
// first decrypted bytes. Then, not at the end of the handshake: a connection with no request yet
// is idle to the engine, and a drain closes idle connections, so a client whose request was on
// its way one round trip behind the handshake would see a reset.
//
// A handshake that fails (a scanner, a client refusing our certificate), a connection closed
// before its first request, or one that takes longer than the time allowed is closed: the
// client's business, nothing is logged. The time is checked by one sweep over the handshakes in
// progress, not a timer each.
import type net from 'node:net';
import type tls from 'node:tls';
import { attachHandle, closeHandle, pauseReading, takeHandle } from '../uv/stream_handle.ts';
import type { HandleOwner, HandleTaker, StreamHandle } from '../uv/stream_handle.ts';
import { wrapTls } from '../uv/tls_handle.ts';
import { sweepEveryMs } from '../http/connection_timeouts.ts';
import type { TlsHandle } from '../uv/tls_handle.ts';

/** ALPN offers HTTP/1.1 only, so a client that also offers h2 knows which it got. */
const ALPN_HTTP1 = Buffer.from('\x08http/1.1', 'latin1');

class Handshake implements HandleOwner {
  readonly handle: TlsHandle;
  readonly socket: net.Socket | null;
  readonly since: number;
  private readonly handshakes: TlsHandshakes;

  constructor(handle: TlsHandle, socket: net.Socket | null, handshakes: TlsHandshakes, now: number) {
    this.handle = handle;
    this.socket = socket;
    this.handshakes = handshakes;
    this.since = now;
  }

  onData(data: Buffer, length: number): void {
    this.handshakes.secured(this, data.subarray(0, length));
  }

  onEnd(): void {
    this.handshakes.abandon(this);
  }

  onFailure(): void {
    this.handshakes.abandon(this);
  }

  onWritten(): void {}
}

export class TlsHandshakes {
  private readonly context: tls.SecureContext;
  private readonly timeoutMs: number;
  private readonly next: HandleTaker;
  private readonly onLeave: () => void;
  private readonly live = new Set<Handshake>();
  private sweeper: NodeJS.Timeout | null = null;

  /**
   * `next` gets each connection past its handshake, with the first decrypted bytes (valid during
   * the call only); `onLeave` is told whenever a handshake ends, either way. `timeoutMs` 0: no bound.
   */
  constructor(context: tls.SecureContext, timeoutMs: number, next: HandleTaker, onLeave: () => void) {
    this.context = context;
    this.timeoutMs = timeoutMs;
    this.next = next;
    this.onLeave = onLeave;
  }

  /** Handshakes in progress. */
  get size(): number {
    return this.live.size;
  }

  /** An accepted connection's handle; `socket` (if any) is destroyed when the connection ends. */
  start(raw: StreamHandle, socket: net.Socket | null, buffered: Buffer | null): void {
    const handshake = new Handshake(wrapTls(raw, this.context, ALPN_HTTP1), socket, this, Date.now());
    this.live.add(handshake);
    if (this.timeoutMs > 0 && this.sweeper === null) {
      this.sweeper = setInterval(() => this.sweep(), sweepEveryMs([this.timeoutMs]));
      this.sweeper.unref();
    }
    if (attachHandle(handshake.handle, handshake) < 0) return this.abandon(handshake);
    if (buffered !== null && buffered.length > 0) handshake.handle.receive(buffered);
  }

  /** A connected socket (handed off, or past its PROXY header): its handle, and what it had read. */
  startOnSocket(socket: net.Socket): void {
    const taken = takeHandle(socket);
    if (taken === null) socket.destroy();
    else this.start(taken.handle, socket, taken.buffered);
  }

  secured(handshake: Handshake, head: Buffer): void {
    if (!this.live.delete(handshake)) return;
    // Its new owner starts reading again, as on a handle just accepted.
    pauseReading(handshake.handle);
    this.next(handshake.handle, handshake.socket, head);
    this.onLeave();
  }

  abandon(handshake: Handshake): void {
    if (!this.live.delete(handshake)) return;
    closeHandle(handshake.handle);
    handshake.socket?.destroy();
    this.onLeave();
  }

  private sweep(): void {
    if (this.live.size === 0) {
      clearInterval(this.sweeper!);
      this.sweeper = null;
      return;
    }
    const late = Date.now() - this.timeoutMs;
    for (const handshake of this.live) if (handshake.since <= late) this.abandon(handshake);
  }
}
