// The response a handler writes. The head is rendered at the first write or at end, so
// `writeHead(...); end(body)` still gets a Content-Length (node:http would switch to chunked).
// Bytes go to the connection only while this response is first in its connection's queue; a
// pipelined response that finishes early waits, buffered, for the ones before it.
import http from 'node:http';
import { HerdError } from '../errors.ts';
import type { OutgoingHeaders, OutgoingHeaderValue, Response, ResponseEvent } from './types.ts';
import { defineUnavailable, RESPONSE_UNAVAILABLE } from './unavailable.ts';
import { dateHeaderLine } from './date_header.ts';
import type { RequestHead } from './request_head.ts';

/** What a response needs from its connection. */
export interface ResponseChannel {
  /** Hands bytes to the socket; only called for the first response of the queue. */
  send(data: Buffer): boolean;
  /** A response is streaming (several writes): small writes must not wait for ACKs. */
  useNoDelay(): void;
  /** The first response of the queue has handed over its last byte. */
  responseDone(res: FastResponse): void;
  /** 'Connection: keep-alive\r\n...' as this engine announces it. */
  readonly keepAliveLines: string;
  readonly encodedCache: EncodedResponseCache;
  /** Date.now(), or the same time for everything done within one read. */
  now(): number;
}

const STATUS_LINES: string[] = [];
for (const [code, text] of Object.entries(http.STATUS_CODES)) STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${text}\r\n`;

const CONNECTION_CLOSE = 'Connection: close\r\n';
const CHUNKED = 'Transfer-Encoding: chunked\r\n';
const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
const HEADER_NAME = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

// The last header name and string value that passed validation, and the name in lower case:
// handlers set the same headers on every response, and a string compare is cheaper than a regexp.
let checkedName = '';
let checkedLowerName = '';
let checkedValue = '';

/**
 * A response's headers as [name, lower-case name, value, name, ...]: one flat array, allocated at
 * the first header. Never changed once the head is rendered, so the cache may keep it as is.
 */
type HeaderTriples = (string | OutgoingHeaderValue)[];
/** The headers of a response that has none yet; never written to (the first header replaces it). */
const NO_HEADERS: HeaderTriples = [];

const FRAMING_NONE = 0; // no body bytes on the wire (HEAD, 1xx, 204, 304)
const FRAMING_LENGTH = 1; // Content-Length
const FRAMING_CHUNKED = 2;
const FRAMING_CLOSE = 3; // body ends when the connection closes (HTTP/1.0 streaming)

/**
 * The last response encoded, kept whole: a handler that answers the same status, headers and
 * body again (a hello-world, a health check) gets the same bytes without rendering them.
 */
export class EncodedResponseCache {
  status = 0;
  message = '';
  headers: HeaderTriples = NO_HEADERS;
  body = '';
  bodyLength = 0;
  omitBody = false;
  connectionLines = '';
  dateLine = '';
  bytes: Buffer | null = null;
  /** Where the head's final CRLF starts in `bytes`: a request id line goes in there. */
  headEnd = 0;
}

type Listener = () => void;

export class FastResponse implements Response {
  statusCode = 200;
  statusMessage = '';
  /** The request answered; null for an answer of the engine's own to bytes that were no request. */
  readonly head: RequestHead | null;
  private readonly channel: ResponseChannel;
  private readonly omitBody: boolean;
  private readonly versionMinor: number;
  /** Set when the connection closes after this response (request asked, server drains, errors). */
  closeAfter: boolean;
  /** Wall-clock ms when the request head was complete. */
  readonly startedAt: number;
  /** Since when the handler's answer is awaited (the head, or the end of the body): --request-timeout counts from here. */
  waitingSince: number;
  /** Body bytes written, for the access log. */
  bodyBytes = 0;

  private headers: HeaderTriples = NO_HEADERS;
  private headerLocked = false; // writeHead called or head rendered
  private rendered = false;
  private ended = false;
  private framing = FRAMING_LENGTH;
  private declaredLength = -1;
  private superseded = false;
  private first = false;
  private pending: Buffer[] | null = null;
  /** Bytes in `pending`; past QUEUED_HIGH_WATER write() says wait, and 'drain' is owed. */
  private pendingBytes = 0;
  private owesDrain = false;
  private continuePending: boolean;
  private listeners: Map<ResponseEvent, Listener[]> | null = null;
  /**
   * --request-id: the id this response carries as X-Request-Id. Kept out of the header list so the
   * encoded response cache still serves the rest of the head; the line is spliced in on output.
   */
  requestId: string | null = null;

  constructor(channel: ResponseChannel, head: RequestHead | null, keepAlive: boolean, startedAt: number) {
    this.channel = channel;
    this.head = head;
    this.omitBody = head !== null && head.method === 'HEAD';
    this.versionMinor = head === null ? 1 : head.versionMinor;
    this.closeAfter = !keepAlive;
    this.continuePending = head !== null && head.expectContinue;
    this.startedAt = startedAt;
    this.waitingSince = startedAt;
  }

  get headersSent(): boolean {
    return this.headerLocked;
  }

  get writableEnded(): boolean {
    return this.ended;
  }

  /** True once a byte of this response may have reached the socket: it can no longer be replaced. */
  get started(): boolean {
    return this.rendered && !this.superseded;
  }

  setHeader(name: string, value: OutgoingHeaderValue): this {
    if (this.headerLocked) throw new HerdError(`cannot set header '${name}' after the headers are sent`, 'HERD_HEADERS_SENT');
    this.storeHeader(name, value);
    return this;
  }

  private storeHeader(name: string, value: OutgoingHeaderValue): void {
    if (name !== checkedName) {
      if (!HEADER_NAME.test(name)) throw new HerdError(`invalid header name '${name}'`, 'HERD_INVALID_HEADER');
      checkedName = name;
      checkedLowerName = name.toLowerCase();
    }
    const lower = checkedLowerName;
    if (typeof value === 'string') {
      if (value !== checkedValue) {
        if (INVALID_VALUE_CHAR.test(value)) throw new HerdError(`invalid character in the value of header '${name}'`, 'HERD_INVALID_HEADER');
        checkedValue = value;
      }
    } else if (typeof value === 'number') {
      // numbers render as digits
    } else if (Array.isArray(value)) {
      for (const v of value) if (INVALID_VALUE_CHAR.test(String(v))) throw new HerdError(`invalid character in the value of header '${name}'`, 'HERD_INVALID_HEADER');
    } else {
      throw new HerdError(`invalid value for header '${name}': ${String(value)}`, 'HERD_INVALID_HEADER');
    }
    const k = this.find(lower);
    if (k !== -1) {
      this.headers[k] = name;
      this.headers[k + 2] = value;
    } else if (this.headers === NO_HEADERS) {
      this.headers = [name, lower, value];
    } else {
      this.headers.push(name, lower, value);
    }
  }

  /** Where the header's triple starts, or -1. */
  private find(lower: string): number {
    const h = this.headers;
    for (let k = 0; k < h.length; k += 3) if (h[k + 1] === lower) return k;
    return -1;
  }

  getHeader(name: string): OutgoingHeaderValue | undefined {
    const lower = name.toLowerCase();
    const k = this.find(lower);
    if (k === -1) return lower === 'x-request-id' && this.requestId !== null ? this.requestId : undefined;
    return this.headers[k + 2];
  }

  getHeaderNames(): string[] {
    const names: string[] = [];
    for (let k = 0; k < this.headers.length; k += 3) names.push(this.headers[k + 1] as string);
    return names;
  }

  hasHeader(name: string): boolean {
    return this.find(name.toLowerCase()) !== -1;
  }

  removeHeader(name: string): void {
    if (this.headerLocked) throw new HerdError(`cannot remove header '${name}' after the headers are sent`, 'HERD_HEADERS_SENT');
    const k = this.find(name.toLowerCase());
    if (k !== -1) this.headers.splice(k, 3);
  }

  writeHead(statusCode: number, statusMessage?: string | OutgoingHeaders, headers?: OutgoingHeaders): this {
    if (this.superseded) return this;
    if (this.headerLocked) throw new HerdError('writeHead called after the headers are sent', 'HERD_HEADERS_SENT');
    if (!Number.isInteger(statusCode) || statusCode < 100 || statusCode > 999) {
      throw new HerdError(`invalid status code ${String(statusCode)}`, 'HERD_INVALID_STATUS');
    }
    this.statusCode = statusCode;
    if (typeof statusMessage === 'string') {
      if (INVALID_VALUE_CHAR.test(statusMessage)) throw new HerdError('invalid character in the status message', 'HERD_INVALID_STATUS');
      this.statusMessage = statusMessage;
    } else if (statusMessage !== undefined) {
      headers = statusMessage;
    }
    if (headers !== undefined) {
      if (Array.isArray(headers)) {
        for (const [name, value] of headers as ReadonlyArray<readonly [string, OutgoingHeaderValue]>) this.storeHeader(name, value);
      } else {
        const object = headers as Record<string, OutgoingHeaderValue | undefined>;
        for (const name in object) {
          const value = object[name];
          if (value !== undefined) this.storeHeader(name, value);
        }
      }
    }
    this.headerLocked = true;
    return this;
  }

  write(chunk: string | Uint8Array, encoding?: BufferEncoding): boolean {
    if (this.superseded) return true;
    if (this.ended) throw new HerdError('write after end', 'HERD_WRITE_AFTER_END');
    if (!this.rendered) this.channel.useNoDelay();
    const body = typeof chunk === 'string' ? Buffer.from(chunk, encoding ?? 'utf8') : chunk;
    let head = '';
    if (!this.rendered) {
      head = this.renderHead(-1);
      if (this.requestId !== null) head = head.slice(0, -2) + requestIdLine(this.requestId) + '\r\n';
    }
    if (body.length === 0) return head === '' ? true : this.output(Buffer.from(head, 'latin1'));
    this.bodyBytes += body.length;
    if (this.framing === FRAMING_NONE) return head === '' ? true : this.output(Buffer.from(head, 'latin1'));
    if (this.framing === FRAMING_CHUNKED) head += body.length.toString(16) + '\r\n';
    const tail = this.framing === FRAMING_CHUNKED ? 2 : 0;
    const out = Buffer.allocUnsafe(head.length + body.length + tail);
    out.write(head, 0, 'latin1');
    out.set(body, head.length);
    if (tail === 2) {
      out[out.length - 2] = 13;
      out[out.length - 1] = 10;
    }
    return this.output(out);
  }

  end(chunk?: string | Uint8Array, encoding?: BufferEncoding): this {
    if (this.superseded || this.ended) return this;
    if (!this.rendered) {
      this.endWhole(chunk, encoding);
    } else {
      if (chunk !== undefined && chunk.length > 0) this.write(chunk, encoding);
      if (this.framing === FRAMING_CHUNKED) this.output(LAST_CHUNK);
      if (this.declaredLength !== -1 && this.declaredLength !== this.bodyBytes && !this.omitBody) this.closeAfter = true;
    }
    this.ended = true;
    this.headerLocked = true;
    if (this.first) this.channel.responseDone(this);
    return this;
  }

  /** The whole response in one buffer: head and a body whose length is known now. */
  private endWhole(chunk: string | Uint8Array | undefined, encoding: BufferEncoding | undefined): void {
    const text = typeof chunk === 'string' && (encoding === undefined || encoding === 'utf8') ? chunk : undefined;
    if (text !== undefined || chunk === undefined) {
      const cached = this.fromCache(text ?? '');
      if (cached !== null) {
        this.rendered = true;
        this.bodyBytes = this.framing === FRAMING_NONE ? 0 : cached.bodyLength;
        this.output(this.withRequestId(cached.bytes!, cached.headEnd));
        return;
      }
    }
    const body = chunk === undefined ? undefined : typeof chunk === 'string' && text === undefined ? Buffer.from(chunk, encoding) : chunk;
    const bodyLength = body === undefined ? 0 : typeof body === 'string' ? Buffer.byteLength(body, 'utf8') : body.length;
    const head = this.renderHead(bodyLength);
    const sendBody = this.framing !== FRAMING_NONE;
    if (this.declaredLength !== -1 && this.declaredLength !== bodyLength && !this.omitBody) this.closeAfter = true;
    const out = Buffer.allocUnsafe(head.length + (sendBody ? bodyLength : 0));
    out.write(head, 0, 'latin1');
    if (sendBody && body !== undefined) {
      if (typeof body === 'string') out.write(body, head.length, 'utf8');
      else out.set(body, head.length);
    }
    this.bodyBytes = sendBody ? bodyLength : 0;
    if (text !== undefined || chunk === undefined) this.storeInCache(text ?? '', this.bodyBytes, out, head.length - 2);
    this.output(this.withRequestId(out, head.length - 2));
  }

  /** `bytes` (a whole response) with the X-Request-Id line put in before the head's final CRLF at `headEnd`. */
  private withRequestId(bytes: Buffer, headEnd: number): Buffer {
    if (this.requestId === null) return bytes;
    const line = requestIdLine(this.requestId);
    const out = Buffer.allocUnsafe(bytes.length + line.length);
    bytes.copy(out, 0, 0, headEnd);
    out.write(line, headEnd, 'latin1');
    bytes.copy(out, headEnd + line.length, headEnd);
    return out;
  }

  /** Status line, headers, Date, Connection and framing; decides this.framing and this.closeAfter. */
  private renderHead(knownLength: number): string {
    this.rendered = true;
    this.headerLocked = true;
    const status = this.statusCode;
    let s =
      this.statusMessage === ''
        ? (STATUS_LINES[status] ?? `HTTP/1.1 ${status} unknown\r\n`)
        : `HTTP/1.1 ${status} ${this.statusMessage}\r\n`;
    let hasDate = false;
    let hasConnection = false;
    let transferEncoding: string | null = null;
    const h = this.headers;
    for (let k = 0; k < h.length; k += 3) {
      const name = h[k] as string;
      const value = h[k + 2];
      if (typeof value === 'object') {
        for (const v of value) s += name + ': ' + v + '\r\n';
      } else {
        s += name + ': ' + value + '\r\n';
      }
      const lower = h[k + 1] as string;
      if (lower.length < 4) continue;
      if (lower === 'date') hasDate = true;
      else if (lower === 'connection') {
        hasConnection = true;
        if (/(^|,)\s*close\s*(,|$)/i.test(String(value))) this.closeAfter = true;
      } else if (lower === 'content-length') this.declaredLength = Number(value);
      else if (lower === 'transfer-encoding') transferEncoding = String(value);
    }
    if (!hasDate) s += dateHeaderLine(this.channel.now());

    const bodyless = this.omitBody || status < 200 || status === 204 || status === 304;
    if (bodyless) {
      this.framing = FRAMING_NONE;
      // A HEAD response announces the length a GET would have had (RFC 9110 9.3.2).
      if (this.omitBody && knownLength >= 0 && this.declaredLength === -1 && transferEncoding === null && status >= 200 && status !== 204 && status !== 304) {
        s += 'Content-Length: ' + knownLength + '\r\n';
      }
    } else if (this.declaredLength !== -1) {
      this.framing = FRAMING_LENGTH;
    } else if (transferEncoding !== null) {
      this.framing = /chunked\s*$/i.test(transferEncoding) ? FRAMING_CHUNKED : FRAMING_CLOSE;
    } else if (knownLength >= 0) {
      this.framing = FRAMING_LENGTH;
      s += 'Content-Length: ' + knownLength + '\r\n';
    } else if (this.versionMinor === 1) {
      this.framing = FRAMING_CHUNKED;
      s += CHUNKED;
    } else {
      this.framing = FRAMING_CLOSE;
    }
    if (this.framing === FRAMING_CLOSE) this.closeAfter = true;
    if (!hasConnection) s += this.closeAfter ? CONNECTION_CLOSE : this.channel.keepAliveLines;
    return s + '\r\n';
  }

  private fromCache(body: string): EncodedResponseCache | null {
    const c = this.channel.encodedCache;
    if (c.bytes === null || c.status !== this.statusCode || c.body !== body || c.omitBody !== this.omitBody) return null;
    const h = this.headers;
    if (c.message !== this.statusMessage || c.headers.length !== h.length) return null;
    if (c.connectionLines !== (this.closeAfter ? CONNECTION_CLOSE : this.channel.keepAliveLines)) return null;
    if (c.dateLine !== dateHeaderLine(this.channel.now())) return null;
    for (let k = 0; k < h.length; k += 3) {
      if (c.headers[k] !== h[k] || c.headers[k + 2] !== h[k + 2]) return null;
    }
    this.framing = this.omitBody || this.statusCode < 200 || this.statusCode === 204 || this.statusCode === 304 ? FRAMING_NONE : FRAMING_LENGTH;
    return c;
  }

  private storeInCache(body: string, bodyLength: number, bytes: Buffer, headEnd: number): void {
    // Only responses whose framing the engine chose; user-set framing or Date headers are not cached.
    const h = this.headers;
    for (let k = 0; k < h.length; k += 3) {
      if (typeof h[k + 2] === 'object') return;
      const lower = h[k + 1];
      if (lower === 'date' || lower === 'connection' || lower === 'content-length' || lower === 'transfer-encoding') return;
    }
    const c = this.channel.encodedCache;
    c.status = this.statusCode;
    c.message = this.statusMessage;
    c.headers = h;
    c.body = body;
    c.bodyLength = bodyLength;
    c.omitBody = this.omitBody;
    c.connectionLines = this.closeAfter ? CONNECTION_CLOSE : this.channel.keepAliveLines;
    c.dateLine = dateHeaderLine(this.channel.now());
    c.bytes = bytes;
    c.headEnd = headEnd;
  }

  private output(data: Buffer): boolean {
    if (this.first) return this.channel.send(data);
    // Queued behind an earlier pipelined response: hold it, but tell a streaming handler to wait,
    // or it would read a whole large file into memory before its turn comes.
    if (this.pending === null) this.pending = [data];
    else this.pending.push(data);
    this.pendingBytes += data.length;
    if (this.pendingBytes < QUEUED_HIGH_WATER) return true;
    this.owesDrain = true;
    return false;
  }

  /** This response is now first in the queue: send what it buffered. Returns whether it has ended. */
  activate(): boolean {
    this.first = true;
    if (this.continuePending) this.sendContinue();
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      this.pendingBytes = 0;
      let below = true;
      for (const data of pending) below = this.channel.send(data);
      // Below the connection's mark: 'drain' now (next tick, outside the caller's loop). Above it,
      // the connection fires 'drain' on its first response, this one, once its output is written.
      if (this.owesDrain && below) process.nextTick(fireDrain, this);
      this.owesDrain = false;
    }
    return this.ended;
  }

  /** 100 Continue for `Expect: 100-continue`, once this response is first and only if nothing was sent yet. */
  private sendContinue(): void {
    this.continuePending = false;
    if (!this.rendered) this.channel.send(Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1'));
  }

  /**
   * Replace whatever the handler did (nothing sent yet) with an error response from the engine:
   * handler exceptions (500), request timeouts (503). The handler's later calls are ignored.
   */
  supersede(status: number, detail: string, close: boolean): void {
    if (this.ended && !this.superseded) return;
    this.headers = NO_HEADERS;
    this.pending = null;
    this.pendingBytes = 0;
    this.owesDrain = false;
    this.continuePending = false;
    this.rendered = false;
    this.headerLocked = false;
    this.declaredLength = -1;
    this.statusCode = status;
    this.statusMessage = '';
    if (close) this.closeAfter = true;
    this.storeHeader('Content-Type', 'text/plain; charset=utf-8');
    const text = http.STATUS_CODES[status] ?? 'Error';
    this.ended = false;
    this.superseded = false;
    this.end(detail === '' ? `${text}\n` : `${text}: ${detail}\n`);
    this.superseded = true;
  }

  on(event: ResponseEvent, listener: Listener): this {
    if (event !== 'drain' && event !== 'finish' && event !== 'close') {
      throw new HerdError(`res.on('${String(event)}') is not available on the fast engine; run with --engine node`, 'HERD_FAST_ENGINE_UNSUPPORTED');
    }
    if (this.listeners === null) this.listeners = new Map();
    const list = this.listeners.get(event);
    if (list) list.push(listener);
    else this.listeners.set(event, [listener]);
    return this;
  }

  once(event: ResponseEvent, listener: Listener): this {
    const wrapped = (): void => {
      const list = this.listeners?.get(event);
      if (list) list.splice(list.indexOf(wrapped), 1);
      listener();
    };
    return this.on(event, wrapped);
  }

  /** Runs the listeners of an event (the connection calls this). */
  fire(event: ResponseEvent): void {
    const list = this.listeners?.get(event);
    if (list === undefined || list.length === 0) return;
    for (const listener of list.slice()) listener();
  }

  get hasListeners(): boolean {
    return this.listeners !== null;
  }
}

defineUnavailable(FastResponse.prototype, 'res', RESPONSE_UNAVAILABLE);

/** How much a response queued behind another may hold before its write() returns false. */
const QUEUED_HIGH_WATER = 16 * 1024;

function fireDrain(res: FastResponse): void {
  res.fire('drain');
}

function requestIdLine(id: string): string {
  return 'X-Request-Id: ' + id + '\r\n';
}
