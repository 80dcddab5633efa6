// The worker's side of logd. access() formats a record into a bounded buffer and returns: no I/O,
// no waiting, no exceptions. What was appended goes to logd's socket in one write once 128 KiB have
// gathered or 50 ms have passed, like nginx's `access_log ... buffer= flush=`: a write per request
// (and the write, receipts and wake-ups it costs logd) would cost more CPU than serving it. One
// write at a time: the next goes out when logd has acknowledged the last, so the records pile up in
// the buffer while logd is slow or stopped, batches grow when logd is busy, and past the buffer's
// bound records are dropped and counted.
//
// Delivery guarantee. A record leaves the buffer only when logd acknowledges that its bytes are in
// the file (receipts.ts). When logd dies, the client reconnects to the respawned daemon at the same
// path and resends what was not acknowledged, minus what the dead daemon is known to have written:
// logd announces (P) the file range of every batch before writing it, and each new daemon tells
// (H) the size of the access log it found, after cutting a line its predecessor left half written.
// An announcement is never lost with the dead daemon's socket: Node drops unread input when a
// write fails, so the client never has a write pending while logd holds its bytes. Each write is
// whole lines, no more than the kernel takes at once, and the next waits for the
// acknowledgement of the last.
// So: a record that was buffered is written exactly once, across any number of logd deaths, unless
//   - the client's bound was passed (dropped, counted in dropped()),
//   - the client itself dies or close() is called before logd acknowledged it,
//   - or its fate is unknown, and then it is resent (so it may appear twice): the log is not a
//     regular file (stdout); the file was renamed away between the death of a daemon and the start
//     of the next; or the connection broke while logd lived on (logd writes what it had read).
import fs from 'node:fs';
import net from 'node:net';
import type { AccessRecord } from './access_record.ts';
import type { AccessLogFormat } from '../config.ts';
import { formatFor, type AccessLineFormat } from './formats.ts';
import { MAX_LINE_BYTES } from './protocol.ts';
import { ReceiptParser, wireBytesForFileBytes, type Receipt } from './receipts.ts';

export interface LogClientOptions {
  socketPath: string;
  format: AccessLogFormat;
  /** Memory for records not yet acknowledged by logd; past it records are dropped and counted. */
  bufferBytes: number;
  /** Records dropped since the previous notice; called at most once every 30 s. */
  onDropNotice?: (dropped: number) => void;
}

export interface LogClient {
  /** Queue one record. Never blocks, never throws. */
  access(record: AccessRecord): void;
  /** Records dropped because the buffer bound was passed, since the start. */
  dropped(): number;
  /** Resolves once every queued record is in the file, or after timeoutMs, whichever comes first. */
  flush(timeoutMs: number): Promise<void>;
  /** Stops at once: closes the socket; records not yet acknowledged are abandoned. */
  close(): void;
}

export function createLogClient(opts: LogClientOptions): LogClient {
  return new SocketLogClient(opts);
}

const INITIAL_BUFFER_BYTES = 64 * 1024;
/**
 * Unsent bytes that make a write now rather than at the next tick of the send timer. Every write
 * costs logd a wake-up, a read, a file write and two receipts, and the worker a write and a read:
 * 128 KiB (about 1300 combined lines) costs logd a fifth less CPU per line than 64 KiB (bench:logd).
 */
const SEND_BATCH_BYTES = 128 * 1024;
/** What makes a write when fewer bytes gathered: this long after the first of them (nginx's flush=). */
export const SEND_DELAY_MS = 50;
/**
 * The most one write carries: what the kernel takes at once into an empty unix socket, so that a
 * write is never left half written (the send buffer, net.core.wmem_default: 208 KiB by default; a
 * margin for the kernel's own bookkeeping). Never below the longest protocol line, which must go whole.
 */
const MAX_WRITE_BYTES = Math.max(MAX_LINE_BYTES + 1, Math.min(SEND_BATCH_BYTES, socketSendBuffer() - 16 * 1024));
const RECONNECT_FIRST_MS = 50;
const RECONNECT_MAX_MS = 1000;
const DROP_NOTICE_INTERVAL_MS = 30_000;
const L = 0x4c;
const NEWLINE = 0x0a;

/** What logd said it was writing, remembered until it acknowledges (or dies). */
interface Announcement {
  epoch: number;
  ino: number;
  from: number;
  to: number;
  /** Stream offset just past the announced bytes. */
  streamEnd: number;
}

class SocketLogClient implements LogClient {
  private readonly socketPath: string;
  private readonly format: AccessLineFormat;
  private readonly bound: number;
  private readonly onDropNotice: ((dropped: number) => void) | undefined;

  // Unacknowledged records are buf[head, tail); buf[head, sent) has been written to the socket.
  private buf: Buffer;
  /** Where a line is formatted only to learn its length, when the buffer is near its bound. */
  private scratch = Buffer.alloc(0);
  private head = 0;
  private sent = 0;
  private tail = 0;
  /** Offset, in everything this client ever queued, of buf[head]. */
  private headOffset = 0;

  private socket: net.Socket | undefined;
  private ready = false;
  private closed = false;
  private writing = false;
  private sendSoon = false;
  private sendTimer: NodeJS.Timeout | undefined;
  private epoch = -1;
  /** Stream offset of byte 0 of the current connection. */
  private connectionOrigin = 0;
  private horizons = new Map<number, { ino: number; size: number }>();
  private announced: Announcement | undefined;
  private reconnectDelay = RECONNECT_FIRST_MS;
  private reconnectTimer: NodeJS.Timeout | undefined;

  private droppedTotal = 0;
  private droppedSinceNotice = 0;
  private lastNoticeAt = -Infinity;
  private noticeTimer: NodeJS.Timeout | undefined;
  private flushWaiters: Array<() => void> = [];

  constructor(opts: LogClientOptions) {
    if (!(opts.bufferBytes > 0)) throw new RangeError('bufferBytes must be a positive number of bytes');
    this.socketPath = opts.socketPath;
    this.format = formatFor(opts.format);
    this.bound = Math.floor(opts.bufferBytes);
    this.onDropNotice = opts.onDropNotice;
    this.buf = Buffer.allocUnsafeSlow(Math.min(this.bound, INITIAL_BUFFER_BYTES));
    this.connect();
  }

  access(record: AccessRecord): void {
    if (this.closed) return;
    const format = this.format;
    try {
      // L, the line, the newline. Past the bound only the exact length can tell whether it fits.
      const room = format.maxBytes(record) + 2;
      if (this.tail - this.head + room > this.bound && this.tail - this.head + this.exactLength(record) > this.bound) return this.drop();
      if (this.tail + room > this.buf.length) this.makeRoom(room);
      const buf = this.buf;
      buf[this.tail] = L;
      const end = format.write(record, buf, this.tail + 1);
      buf[end] = NEWLINE;
      this.tail = end + 1;
    } catch {
      return this.drop(); // a malformed record must not take the worker down
    }
    this.scheduleSend();
  }

  /** The record's protocol line length, formatted aside (only near the bound). */
  private exactLength(record: AccessRecord): number {
    const room = this.format.maxBytes(record);
    if (this.scratch.length < room) this.scratch = Buffer.allocUnsafeSlow(room);
    return this.format.write(record, this.scratch, 0) + 2;
  }

  dropped(): number {
    return this.droppedTotal;
  }

  flush(timeoutMs: number): Promise<void> {
    if (this.head === this.tail || this.closed) return Promise.resolve();
    this.send();
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeoutMs);
      const waiters = this.flushWaiters;
      function done(): void {
        clearTimeout(timer);
        const i = waiters.indexOf(done);
        if (i !== -1) waiters.splice(i, 1);
        resolve();
      }
      waiters.push(done);
    });
  }

  close(): void {
    this.closed = true;
    this.ready = false;
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.noticeTimer);
    clearTimeout(this.sendTimer);
    this.socket?.destroy();
    this.socket = undefined;
    for (const done of [...this.flushWaiters]) done();
  }

  private drop(): void {
    this.droppedTotal++;
    this.droppedSinceNotice++;
    if (this.onDropNotice === undefined || this.noticeTimer !== undefined) return;
    // Never call back from inside access(): the notice comes from a timer, now or when 30 s have passed.
    const wait = Math.max(0, this.lastNoticeAt + DROP_NOTICE_INTERVAL_MS - Date.now());
    this.noticeTimer = setTimeout(() => {
      this.noticeTimer = undefined;
      this.lastNoticeAt = Date.now();
      const count = this.droppedSinceNotice;
      this.droppedSinceNotice = 0;
      this.onDropNotice!(count);
    }, wait);
    this.noticeTimer.unref();
  }

  /** Room for `length` more bytes at tail: move the unacknowledged bytes to the front, or to a bigger buffer. */
  private makeRoom(length: number): void {
    const kept = this.tail - this.head;
    // A socket write in flight may still read the old bytes, so they are only moved in place when none is.
    // `length` is an upper bound of the next line, so the buffer may pass the bound by that much.
    const target = !this.writing && kept + length <= this.buf.length ? this.buf : Buffer.allocUnsafeSlow(Math.max(kept + length, Math.min(this.bound, this.buf.length * 2)));
    this.buf.copy(target, 0, this.head, this.tail);
    this.buf = target;
    this.sent -= this.head;
    this.tail = kept;
    this.head = 0;
  }

  /** A write now when a batch has gathered, else at the latest SEND_DELAY_MS from now. */
  private scheduleSend(): void {
    // A write logd has not acknowledged yet: its acknowledgement schedules the next one.
    if (this.sent !== this.head) return;
    if (this.tail - this.sent >= SEND_BATCH_BYTES) {
      if (!this.sendSoon) {
        this.sendSoon = true;
        setImmediate(this.sendLater);
      }
    } else if (this.sendTimer === undefined && this.tail > this.sent) {
      this.sendTimer = setTimeout(this.sendLater, SEND_DELAY_MS);
      this.sendTimer.unref();
    }
  }

  private readonly sendLater = (): void => {
    this.sendSoon = false;
    clearTimeout(this.sendTimer);
    this.sendTimer = undefined;
    this.send();
  };

  private send(): void {
    const socket = this.socket;
    // sent !== head: logd has not acknowledged the last write; its acknowledgement calls again.
    if (!this.ready || this.writing || this.sent !== this.head || this.sent === this.tail || socket === undefined) return;
    let end = this.tail;
    if (end - this.sent > MAX_WRITE_BYTES) end = this.buf.lastIndexOf(NEWLINE, this.sent + MAX_WRITE_BYTES - 1) + 1 || this.tail;
    const chunk = this.buf.subarray(this.sent, end);
    this.sent = end;
    this.writing = true;
    socket.write(chunk, () => {
      if (socket !== this.socket) return;
      this.writing = false;
      this.send();
    });
  }

  private connect(): void {
    this.reconnectTimer = undefined;
    if (this.closed) return;
    const socket = net.createConnection(this.socketPath);
    socket.unref(); // the log must not keep a worker alive; flush() is how a worker waits for it
    this.socket = socket;
    this.horizons = new Map();
    const receipts = new ReceiptParser((r) => this.receipt(r));
    socket.on('data', (chunk: Buffer) => receipts.push(chunk));
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      if (socket !== this.socket) return;
      this.socket = undefined;
      this.ready = false;
      this.writing = false;
      if (this.closed) return;
      this.reconnectTimer = setTimeout(() => this.connect(), this.reconnectDelay);
      this.reconnectTimer.unref();
      this.reconnectDelay = Math.min(RECONNECT_MAX_MS, this.reconnectDelay * 2);
    });
  }

  private receipt(r: Receipt): void {
    switch (r.kind) {
      case 'horizon':
        this.horizons.set(r.epoch, { ino: r.ino, size: r.size });
        return;
      case 'epoch':
        this.epoch = r.epoch;
        this.resolveAnnouncement();
        this.sent = this.head;
        this.connectionOrigin = this.headOffset;
        this.ready = true;
        this.reconnectDelay = RECONNECT_FIRST_MS;
        this.send();
        return;
      case 'announce':
        this.announced = { epoch: this.epoch, ino: r.ino, from: r.from, to: r.to, streamEnd: this.connectionOrigin + r.wire };
        return;
      case 'ack':
        this.acknowledged(this.connectionOrigin + r.wire);
        return;
    }
  }

  private acknowledged(streamEnd: number): void {
    this.announced = undefined;
    const count = streamEnd - this.headOffset;
    if (count <= 0) return;
    this.head += count;
    this.headOffset = streamEnd;
    if (this.head !== this.tail) {
      if (this.head !== this.sent) return; // part of the last write is still being written
      if (this.flushWaiters.length > 0) this.send();
      else this.scheduleSend();
      return;
    }
    // All acknowledged, so the kernel has consumed every byte written: start over at the front.
    this.head = this.sent = this.tail = 0;
    for (const done of [...this.flushWaiters]) done();
  }

  /**
   * After a reconnect: the batch the previous daemon announced but never acknowledged was written up
   * to that daemon's horizon (the file size its successor found). Those records are done; the rest
   * is resent. Without a horizon for that file, everything unacknowledged is resent.
   */
  private resolveAnnouncement(): void {
    const a = this.announced;
    this.announced = undefined;
    if (a === undefined || a.ino === 0) return;
    const horizon = this.horizons.get(a.epoch);
    if (horizon === undefined || horizon.ino !== a.ino) return;
    const fileBytes = Math.max(0, Math.min(horizon.size, a.to) - a.from);
    const segmentEnd = Math.min(this.tail, this.head + (a.streamEnd - this.headOffset));
    const written = wireBytesForFileBytes(this.buf, this.head, segmentEnd, fileBytes);
    if (written > 0) this.acknowledged(this.headOffset + written);
  }
}

/** The kernel's default send buffer for a socket (unix sockets included); 208 KiB when it cannot be read. */
function socketSendBuffer(): number {
  try {
    const bytes = Number(fs.readFileSync('/proc/sys/net/core/wmem_default', 'latin1').trim());
    return bytes > 0 ? bytes : 212992;
  } catch {
    return 212992;
  }
}
