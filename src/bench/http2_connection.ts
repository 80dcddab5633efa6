// One HTTP/2 client connection of the load generator, on the same transports as HTTP/1.x (the
// bare libuv TCP handle, or TLS with ALPN h2): a frame reader and writer of its own (h2_framing.ts)
// instead of node:http2's client, whose per-stream objects, events and header objects cost ~10x
// h2load's CPU per request. The request is one pre-encoded HEADERS frame; opening a stream is a
// copy of it with the stream id patched in. Streams' state lives in typed arrays indexed by slot.
// The frames a read asks for (new streams, SETTINGS and PING acks, WINDOW_UPDATEs) are queued
// and written together once the read is handled. Of a response only its :status, its DATA
// lengths and its end are read.
// `performance` from node:perf_hooks: the global is an accessor, a slow IC on every read.
import { performance } from 'node:perf_hooks';
import {
  FLAG_ACK, FLAG_END_HEADERS, FLAG_END_STREAM, FLAG_PADDED, FLAG_PRIORITY, FRAME_CONTINUATION, FRAME_DATA,
  FRAME_GOAWAY, FRAME_HEADERS, FRAME_HEADER_BYTES, FRAME_PING, FRAME_PUSH_PROMISE, FRAME_RST_STREAM,
  FRAME_SETTINGS, FRAME_WINDOW_UPDATE, DEFAULT_WINDOW, MAX_FRAME_PAYLOAD, MAX_STREAM_ID, MAX_WINDOW,
  SETTINGS_INITIAL_WINDOW_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS, clientPreface, decodeStatus, readUint31,
  readUint32, writeFrameHeader, writeUint31,
} from './h2_framing.ts';
import { KIND_BAD_RESPONSE, KIND_RESET, KIND_TIMEOUT, errorKind } from './connection.ts';
import type { StreamEvents, Transport } from './transport.ts';
import type { LoadLoop } from './load_loop.ts';

export interface Http2Plan {
  /** Requests in flight per connection. */
  streams: number;
  /** The request's HPACK header block (h2_framing.ts encodeHeaderBlock). */
  headerBlock: Uint8Array;
  /** At most one initial stream window (65535 bytes), so it never waits on flow control per stream. */
  body: Uint8Array | null;
}

const PREFACE = clientPreface();
/** Replenish the connection's receive window once this much of it is used (a quarter of it). */
const WINDOW_REFILL = 0x2000_0000;

/** RST_STREAM's error code for a stream the server never processed. */
const REFUSED_STREAM = 0x7;
/** A slot's stream id when free. */
const FREE = 0;

export class Http2Connection implements StreamEvents {
  inFlight = 0;
  /** When this connection last made progress (connect, a stream started or finished): --timeout counts from it. */
  attemptAt = 0;

  private readonly loop: LoadLoop;
  private readonly transport: Transport;
  private readonly streams: number;
  private readonly body: Uint8Array | null;
  /** A HEADERS frame (and DATA frames of the body) with stream id 0: copied and patched per stream. */
  private readonly requestFrames: Buffer;
  /** Where each frame of requestFrames begins (HEADERS at 0, then the body's DATA frames). */
  private readonly frameStarts: number[];
  private handle: object | null = null;
  private connected = false;
  /** While a read is handled, frames are queued and flushed at its end. */
  private reading = false;
  private nextStreamId = 1;
  /**
   * Streams the server allows at once (its SETTINGS_MAX_CONCURRENT_STREAMS): 0 until its first
   * SETTINGS arrive, so a server with a limit never sees more (one round trip per connection).
   */
  private serverStreamLimit = 0;
  /** 1 while a request taken from the loop waits for the server's first SETTINGS (counted in inFlight). */
  private reserved = 0;
  /** The server's connection window for request bodies, and its initial stream window. */
  private sendWindow = DEFAULT_WINDOW;
  private serverStreamWindow = DEFAULT_WINDOW;
  /** Bytes of DATA received since the connection's receive window was last refilled. */
  private received = 0;
  /** After GOAWAY: no new streams; the connection closes once its last stream ends. */
  private goingAway = false;

  // Streams, by slot (a power of two at least twice --streams; an id whose slot is taken is skipped).
  private readonly slotMask: number;
  private readonly slotId: Int32Array;
  private readonly slotStatus: Int32Array;
  private readonly slotStartedAt: Float64Array;

  // The frame being read: its header (which may arrive split), then its payload.
  private readonly head = new Uint8Array(FRAME_HEADER_BYTES);
  private headLength = 0;
  private frameLength = 0;
  private frameType = 0;
  private frameFlags = 0;
  private frameStream = 0;
  /** Payload bytes of the current frame still to come; -1 while its header is being read. */
  private payloadLeft = -1;
  /** A payload split across reads is gathered here (DATA payloads are only counted, never kept). */
  private readonly payload = Buffer.allocUnsafe(MAX_FRAME_PAYLOAD);
  /** After a HEADERS without END_HEADERS: the stream whose CONTINUATION frames follow (0: none). */
  private continuationStream = 0;
  private continuationEndsStream = false;

  // Frames waiting to be written.
  private out: Buffer;
  private outLength = 0;

  constructor(loop: LoadLoop, transport: Transport, h2: Http2Plan) {
    this.loop = loop;
    this.transport = transport;
    this.streams = h2.streams;
    this.body = h2.body;
    this.requestFrames = requestFrames(h2);
    this.frameStarts = [];
    for (let at = 0; at < this.requestFrames.length; at += FRAME_HEADER_BYTES + this.requestFrames.readUIntBE(at, 3)) this.frameStarts.push(at);
    let slots = 2;
    while (slots < 2 * h2.streams) slots *= 2;
    this.slotMask = slots - 1;
    this.slotId = new Int32Array(slots);
    this.slotStatus = new Int32Array(slots);
    this.slotStartedAt = new Float64Array(slots);
    this.out = Buffer.allocUnsafe(this.outCapacity());
  }

  /** Opens streams up to --streams (and the server's limit) while the loop has requests left. */
  start(now = performance.now()): void {
    const loop = this.loop;
    if (loop.stopped || this.goingAway) return;
    if (this.handle === null) {
      this.connect();
      if (this.handle === null) return;
    }
    if (this.serverStreamLimit === 0) {
      // Not ready: one request waits for the connection, so a server that never answers times it out.
      if (this.reserved === 0 && loop.take(1) === 1) {
        this.reserved = 1;
        this.inFlight = 1;
        this.attemptAt = now;
      }
      if (!this.reading) this.flush();
      return;
    }
    const limit = Math.min(this.streams, this.serverStreamLimit);
    const bodyLength = this.body === null ? 0 : this.body.length;
    while (this.inFlight < limit && this.nextStreamId <= MAX_STREAM_ID) {
      if (bodyLength > this.sendWindow || bodyLength > this.serverStreamWindow) break; // WINDOW_UPDATE or SETTINGS follow
      if (this.reserved === 1) {
        this.reserved = 0;
        this.inFlight--;
      } else if (loop.take(1) === 0) {
        break;
      }
      this.openStream(now);
      this.sendWindow -= bodyLength;
    }
    if (this.nextStreamId > MAX_STREAM_ID && this.inFlight === 0) {
      this.close(); // every stream id used: the next request opens a new connection
      this.start(now);
      return;
    }
    if (!this.reading) this.flush();
  }

  stop(): void {
    this.close();
  }

  timedOut(): void {
    this.fail(KIND_TIMEOUT);
  }

  private connect(): void {
    const plan = this.loop.plan;
    // No Nagle: frames go out while earlier ones are unacknowledged.
    const handle = this.transport.connect(plan.address, plan.port, true, this.loop.readBuffer, this);
    if (typeof handle === 'number') {
      // Counted as one request failed, and tried again on the next turn of the loop, not recursively.
      if (this.loop.take(1) === 1) this.loop.failed(errorKind(handle), 1);
      setImmediate(() => this.start());
      return;
    }
    this.handle = handle;
    this.connected = false;
    this.nextStreamId = 1;
    this.serverStreamLimit = 0;
    this.sendWindow = DEFAULT_WINDOW;
    this.serverStreamWindow = DEFAULT_WINDOW;
    this.received = 0;
    this.goingAway = false;
    this.headLength = 0;
    this.payloadLeft = -1;
    this.continuationStream = 0;
    this.outLength = 0;
    this.queue(PREFACE, 0, PREFACE.length);
    this.attemptAt = performance.now();
  }

  private openStream(now: number): void {
    let id = this.nextStreamId;
    while (this.slotId[((id - 1) >>> 1) & this.slotMask] !== FREE) id += 2; // a stream still open holds the slot
    this.nextStreamId = id + 2;
    const slot = ((id - 1) >>> 1) & this.slotMask;
    this.slotId[slot] = id;
    this.slotStatus[slot] = 0;
    this.slotStartedAt[slot] = now;
    this.inFlight++;
    this.attemptAt = now;
    const frames = this.requestFrames;
    const at = this.reserve(frames.length);
    frames.copy(this.out, at);
    for (const frameAt of this.frameStarts) writeUint31(this.out, at + frameAt + 5, id);
  }

  onConnect(handle: object): void {
    if (handle !== this.handle) return;
    this.connected = true;
    this.flush();
  }

  onEnd(handle: object): void {
    if (handle !== this.handle) return;
    if (this.inFlight > 0) return this.fail(KIND_RESET);
    this.close();
    this.start();
  }

  onFailure(handle: object, errno: number): void {
    if (handle === this.handle) this.fail(errorKind(errno));
  }

  onWritten(): void {}

  onData(handle: object, nread: number): void {
    if (handle !== this.handle) return;
    this.loop.received(nread);
    const buf = this.loop.readBuffer;
    this.reading = true;
    let at = 0;
    while (at < nread && this.handle === handle) {
      if (this.payloadLeft < 0) {
        // Frame header: gather 9 bytes.
        const take = Math.min(FRAME_HEADER_BYTES - this.headLength, nread - at);
        this.head.set(buf.subarray(at, at + take), this.headLength);
        this.headLength += take;
        at += take;
        if (this.headLength < FRAME_HEADER_BYTES) break;
        this.headLength = 0;
        const h = this.head;
        this.frameLength = (h[0] << 16) | (h[1] << 8) | h[2];
        this.frameType = h[3];
        this.frameFlags = h[4];
        this.frameStream = readUint31(h, 5);
        if (this.frameLength > MAX_FRAME_PAYLOAD) {
          this.fail(KIND_BAD_RESPONSE);
          break;
        }
        this.payloadLeft = this.frameLength;
        if (this.frameType === FRAME_DATA) this.dataFrame();
        if (this.payloadLeft === 0) {
          this.payloadLeft = -1;
          this.frame(this.payload, 0, 0);
        }
        continue;
      }
      const take = Math.min(this.payloadLeft, nread - at);
      if (this.frameType === FRAME_DATA) {
        // Only its length matters, and that was counted at its header.
        this.payloadLeft -= take;
        at += take;
        if (this.payloadLeft === 0) {
          this.payloadLeft = -1;
          this.frame(buf, 0, 0);
        }
        continue;
      }
      if (take === this.frameLength) {
        // The whole payload is in this read: read it in place.
        this.payloadLeft = -1;
        at += take;
        this.frame(buf, at - take, at);
        continue;
      }
      const gathered = this.frameLength - this.payloadLeft;
      this.payload.set(buf.subarray(at, at + take), gathered);
      this.payloadLeft -= take;
      at += take;
      if (this.payloadLeft === 0) {
        this.payloadLeft = -1;
        this.frame(this.payload, 0, this.frameLength);
      }
    }
    this.reading = false;
    if (this.handle === handle) this.flush();
  }

  /** A DATA frame's header: flow control counts the whole frame, padding included. */
  private dataFrame(): void {
    this.received += this.frameLength;
    if (this.received >= WINDOW_REFILL) {
      this.windowUpdate(this.received);
      this.received = 0;
    }
  }

  /** A whole frame (DATA with no payload bytes given: they are not needed). */
  private frame(buf: Uint8Array, start: number, end: number): void {
    const type = this.frameType;
    const flags = this.frameFlags;
    const id = this.frameStream;
    if (this.continuationStream !== 0 && type !== FRAME_CONTINUATION) return this.fail(KIND_BAD_RESPONSE);
    switch (type) {
      case FRAME_DATA:
        if ((flags & FLAG_END_STREAM) !== 0) this.endStream(id);
        return;
      case FRAME_HEADERS: {
        let from = start;
        let to = end;
        if ((flags & FLAG_PADDED) !== 0) {
          if (to - from < 1) return this.fail(KIND_BAD_RESPONSE);
          to -= buf[from++];
        }
        if ((flags & FLAG_PRIORITY) !== 0) from += 5;
        if (to < from) return this.fail(KIND_BAD_RESPONSE);
        const slot = this.slotOf(id);
        if (slot < 0) return this.fail(KIND_BAD_RESPONSE);
        // The first HEADERS of a stream (or the next after a 1xx) carries :status; later ones are trailers.
        if (this.slotStatus[slot] < 200) {
          const status = decodeStatus(buf, from, to);
          if (status < 100) return this.fail(KIND_BAD_RESPONSE);
          this.slotStatus[slot] = status;
        }
        if ((flags & FLAG_END_HEADERS) === 0) {
          this.continuationStream = id;
          this.continuationEndsStream = (flags & FLAG_END_STREAM) !== 0;
          return;
        }
        if ((flags & FLAG_END_STREAM) !== 0) this.endStream(id);
        return;
      }
      case FRAME_CONTINUATION:
        if (id !== this.continuationStream) return this.fail(KIND_BAD_RESPONSE);
        if ((flags & FLAG_END_HEADERS) !== 0) {
          this.continuationStream = 0;
          if (this.continuationEndsStream) this.endStream(id);
        }
        return;
      case FRAME_RST_STREAM: {
        const slot = this.slotOf(id);
        if (slot < 0) return; // a stream already ended
        this.freeSlot(slot);
        // REFUSED_STREAM: the server did not process it, so it goes out again on a later stream.
        if (end - start === 4 && readUint32(buf, start) === REFUSED_STREAM) this.loop.giveBack(1);
        else this.loop.failed(KIND_RESET, 1);
        this.afterStreamEnded(performance.now());
        return;
      }
      case FRAME_SETTINGS:
        if ((flags & FLAG_ACK) !== 0) return;
        if (id !== 0 || (end - start) % 6 !== 0) return this.fail(KIND_BAD_RESPONSE);
        if (this.serverStreamLimit === 0) this.serverStreamLimit = Infinity; // its first SETTINGS: no limit unless given
        for (let at = start; at < end; at += 6) {
          const setting = (buf[at] << 8) | buf[at + 1];
          const value = readUint32(buf, at + 2);
          if (setting === SETTINGS_MAX_CONCURRENT_STREAMS) this.serverStreamLimit = value;
          else if (setting === SETTINGS_INITIAL_WINDOW_SIZE) {
            if (value > MAX_WINDOW) return this.fail(KIND_BAD_RESPONSE);
            this.serverStreamWindow = value;
          }
        }
        this.control(FRAME_SETTINGS, FLAG_ACK, buf, start, start);
        this.start();
        return;
      case FRAME_PING:
        if ((flags & FLAG_ACK) === 0) {
          if (end - start !== 8) return this.fail(KIND_BAD_RESPONSE);
          this.control(FRAME_PING, FLAG_ACK, buf, start, end);
        }
        return;
      case FRAME_GOAWAY: {
        if (end - start < 8) return this.fail(KIND_BAD_RESPONSE);
        this.goAway(readUint31(buf, start));
        return;
      }
      case FRAME_WINDOW_UPDATE:
        if (end - start !== 4) return this.fail(KIND_BAD_RESPONSE);
        if (id === 0) {
          this.sendWindow += readUint31(buf, start);
          this.start();
        }
        return;
      case FRAME_PUSH_PROMISE:
        return this.fail(KIND_BAD_RESPONSE); // push was refused in the client's SETTINGS
      default:
        return; // PRIORITY and unknown types: nothing to do
    }
  }

  private slotOf(id: number): number {
    if (id === 0 || (id & 1) === 0) return -1;
    const slot = ((id - 1) >>> 1) & this.slotMask;
    return this.slotId[slot] === id ? slot : -1;
  }

  private freeSlot(slot: number): void {
    this.slotId[slot] = FREE;
    this.inFlight--;
  }

  private endStream(id: number): void {
    const slot = this.slotOf(id);
    if (slot < 0) return this.fail(KIND_BAD_RESPONSE); // a stream this connection never opened
    const status = this.slotStatus[slot];
    const startedAt = this.slotStartedAt[slot];
    this.freeSlot(slot);
    if (status >= 200) this.attemptAt = this.loop.succeeded(status, startedAt);
    else this.loop.failed(KIND_BAD_RESPONSE, 1); // ended without a final status
    this.afterStreamEnded(this.attemptAt);
  }

  /** A stream ended: open the next, or after GOAWAY close once the last one is done. */
  private afterStreamEnded(now: number): void {
    if (this.loop.stopped) return;
    if (this.goingAway && this.inFlight === 0) {
      this.close();
      this.start(now);
      return;
    }
    this.start(now);
  }

  /** GOAWAY: streams above `lastId` were never processed and go back to the budget. */
  private goAway(lastId: number): void {
    this.goingAway = true;
    let dropped = 0;
    for (let slot = 0; slot <= this.slotMask; slot++) {
      if (this.slotId[slot] > lastId) {
        this.slotId[slot] = FREE;
        dropped++;
      }
    }
    this.inFlight -= dropped;
    this.loop.giveBack(dropped);
    if (this.inFlight === 0) {
      this.close();
      this.start();
    }
  }

  private fail(kind: number): void {
    const count = this.inFlight;
    this.close();
    this.loop.failed(kind, count);
    if (!this.loop.stopped) this.start();
  }

  private close(): void {
    this.slotId.fill(FREE);
    this.inFlight = 0;
    this.reserved = 0;
    this.goingAway = false;
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    this.connected = false;
    this.outLength = 0;
    this.transport.close(handle);
  }

  private windowUpdate(increment: number): void {
    const at = this.reserve(FRAME_HEADER_BYTES + 4);
    writeFrameHeader(this.out, at, 4, FRAME_WINDOW_UPDATE, 0, 0);
    writeUint31(this.out, at + FRAME_HEADER_BYTES, increment);
  }

  /** A stream-0 frame whose payload is buf[start, end) (the echo of a PING, or none). */
  private control(type: number, flags: number, buf: Uint8Array, start: number, end: number): void {
    const at = this.reserve(FRAME_HEADER_BYTES + end - start);
    writeFrameHeader(this.out, at, end - start, type, flags, 0);
    this.out.set(buf.subarray(start, end), at + FRAME_HEADER_BYTES);
  }

  private queue(bytes: Uint8Array, start: number, end: number): void {
    const at = this.reserve(end - start);
    this.out.set(bytes.subarray(start, end), at);
  }

  private outCapacity(): number {
    return Math.max(PREFACE.length + 256, this.requestFrames.length * this.streams + 256);
  }

  /** Room for `length` bytes at the end of the queue; a full queue is written first. */
  private reserve(length: number): number {
    if (this.outLength + length > this.out.length) {
      if (this.connected) this.flush();
      if (this.outLength + length > this.out.length) {
        const bigger = Buffer.allocUnsafe(Math.max(2 * this.out.length, this.outLength + length));
        this.out.copy(bigger, 0, 0, this.outLength);
        this.out = bigger;
      }
    }
    const at = this.outLength;
    this.outLength += length;
    return at;
  }

  private flush(): void {
    if (!this.connected || this.outLength === 0) return;
    const bytes = this.out.subarray(0, this.outLength);
    this.outLength = 0;
    const result = this.transport.write(this.handle!, bytes);
    // A write still pending (or a transport that keeps what it is given) owns the buffer now.
    if (result === 0 || this.transport.keepsWrites) this.out = Buffer.allocUnsafe(this.outCapacity());
    if (result < 0) this.fail(errorKind(result));
  }
}

/** The request's frames with stream id 0: HEADERS, then the body (if any) in DATA frames. */
function requestFrames(h2: Http2Plan): Buffer {
  const block = h2.headerBlock;
  if (block.length > MAX_FRAME_PAYLOAD) throw new Error('the request headers exceed one HTTP/2 frame (16 KiB)');
  const body = h2.body;
  const parts: Buffer[] = [];
  const headers = Buffer.allocUnsafe(FRAME_HEADER_BYTES + block.length);
  writeFrameHeader(headers, 0, block.length, FRAME_HEADERS, FLAG_END_HEADERS | (body === null ? FLAG_END_STREAM : 0), 0);
  headers.set(block, FRAME_HEADER_BYTES);
  parts.push(headers);
  if (body !== null) {
    let at = 0;
    do {
      const length = Math.min(MAX_FRAME_PAYLOAD, body.length - at);
      const data = Buffer.allocUnsafe(FRAME_HEADER_BYTES + length);
      writeFrameHeader(data, 0, length, FRAME_DATA, at + length === body.length ? FLAG_END_STREAM : 0, 0);
      data.set(body.subarray(at, at + length), FRAME_HEADER_BYTES);
      parts.push(data);
      at += length;
    } while (at < body.length);
  }
  return Buffer.concat(parts);
}
