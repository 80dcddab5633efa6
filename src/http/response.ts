// The response a handler writes: its status and headers and the order of its calls.
// The head is rendered (head_renderer.ts) at the first write or at end, so
// `writeHead(...); end(body)` still gets a Content-Length (node:http would switch to chunked).
// Bytes go to the connection only while this response is first in its connection's queue; a
// pipelined response that writes early holds its output (held_output.ts) until its turn; its
// listeners, when it has any, are in response_events.ts.
import http from 'node:http';
import { HerdError } from '../errors.ts';
import type { OutgoingHeaders, OutgoingHeaderValue, Response, ResponseEvent } from './types.ts';
import { defineUnavailable, RESPONSE_UNAVAILABLE } from './unavailable.ts';
import type { RequestHead } from './request_head.ts';
import { CONTINUE, FRAMING_CHUNKED, FRAMING_LENGTH, FRAMING_NONE, LAST_CHUNK, framedBody, headWithRequestId, withRequestId } from './head_renderer.ts';
import type { Framing, HeadRenderer, HeadState } from './head_renderer.ts';
import { HeldOutput } from './held_output.ts';
import { ResponseEvents } from './response_events.ts';
import { INVALID_VALUE_CHAR, NO_HEADERS, indexOfHeader, setHeaderIn } from './response_headers.ts';
import type { HeaderList } from './response_headers.ts';

/** What a response needs from its connection. */
export interface ResponseChannel {
  /** Hands bytes to the socket; only called for the first response of the queue. */
  send(data: Buffer): boolean;
  /** A response is streaming (several writes): small writes must not wait for ACKs. */
  useNoDelay(): void;
  /** The first response of the queue has handed over its last byte. */
  responseDone(res: FastResponse): void;
  readonly renderer: HeadRenderer;
  /** Date.now(), or the same time for everything done within one read. */
  now(): number;
}

type Listener = () => void;

export class FastResponse implements Response, HeadState {
  statusCode = 200;
  statusMessage = '';
  /** The request answered; null for an answer of the engine's own to bytes that were no request. */
  readonly head: RequestHead | null;
  private readonly channel: ResponseChannel;
  readonly omitBody: boolean;
  readonly versionMinor: number;
  /** Set when the connection closes after this response (request asked, server drains, errors). */
  closeAfter: boolean;
  /** Wall-clock ms when the request head was complete. */
  readonly startedAt: number;
  /** Since when the handler's answer is awaited (the head, or the end of the body): --request-timeout counts from here. */
  waitingSince: number;
  /** Body bytes written, for the access log. */
  bodyBytes = 0;
  /** Decided by the renderer. */
  framing: Framing = FRAMING_LENGTH;
  declaredLength = -1;
  headerList: HeaderList = NO_HEADERS;

  private headerLocked = false; // writeHead called or head rendered
  private rendered = false;
  private ended = false;
  private superseded = false;
  private first = false;
  /** Output written before this response's turn; null unless it wrote while behind another. */
  private held: HeldOutput | null = null;
  private continuePending: boolean;
  private events: ResponseEvents | null = null;
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
    this.headerList = setHeaderIn(this.headerList, name, value);
    return this;
  }

  getHeader(name: string): OutgoingHeaderValue | undefined {
    const lower = name.toLowerCase();
    const k = indexOfHeader(this.headerList, lower);
    if (k === -1) return lower === 'x-request-id' && this.requestId !== null ? this.requestId : undefined;
    return this.headerList[k + 2];
  }

  getHeaderNames(): string[] {
    const names: string[] = [];
    const h = this.headerList;
    for (let k = 0; k < h.length; k += 3) names.push(h[k + 1] as string);
    return names;
  }

  hasHeader(name: string): boolean {
    return indexOfHeader(this.headerList, name.toLowerCase()) !== -1;
  }

  removeHeader(name: string): void {
    if (this.headerLocked) throw new HerdError(`cannot remove header '${name}' after the headers are sent`, 'HERD_HEADERS_SENT');
    const k = indexOfHeader(this.headerList, name.toLowerCase());
    if (k !== -1) this.headerList.splice(k, 3);
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
      let list = this.headerList;
      if (Array.isArray(headers)) {
        for (const [name, value] of headers as ReadonlyArray<readonly [string, OutgoingHeaderValue]>) list = setHeaderIn(list, name, value);
      } else {
        const object = headers as Record<string, OutgoingHeaderValue | undefined>;
        for (const name in object) {
          const value = object[name];
          if (value !== undefined) list = setHeaderIn(list, name, value);
        }
      }
      this.headerList = list;
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
      if (this.requestId !== null) head = headWithRequestId(head, this.requestId);
    }
    if (body.length === 0) return head === '' ? true : this.output(Buffer.from(head, 'latin1'));
    this.bodyBytes += body.length;
    if (this.framing === FRAMING_NONE) return head === '' ? true : this.output(Buffer.from(head, 'latin1'));
    return this.output(framedBody(head, body, this.framing));
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
    const renderer = this.channel.renderer;
    if (text !== undefined || chunk === undefined) {
      const cached = renderer.cached(this, text ?? '', this.channel.now());
      if (cached !== null) {
        this.rendered = true;
        this.headerLocked = true;
        this.bodyBytes = this.framing === FRAMING_NONE ? 0 : cached.bodyLength;
        this.output(this.requestId === null ? cached.bytes : withRequestId(cached.bytes, cached.headEnd, this.requestId));
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
    const headEnd = head.length - 2;
    if (text !== undefined || chunk === undefined) renderer.remember(this, text ?? '', this.bodyBytes, out, headEnd, this.channel.now());
    this.output(this.requestId === null ? out : withRequestId(out, headEnd, this.requestId));
  }

  private renderHead(knownLength: number): string {
    this.rendered = true;
    this.headerLocked = true;
    return this.channel.renderer.render(this, knownLength, this.channel.now());
  }

  private output(data: Buffer): boolean {
    if (this.first) return this.channel.send(data);
    // Queued behind an earlier pipelined response: hold it until its turn.
    return (this.held ??= new HeldOutput()).hold(data);
  }

  /** This response is now first in the queue: send what it held. Returns whether it has ended. */
  activate(): boolean {
    this.first = true;
    if (this.continuePending) this.sendContinue();
    const held = this.held;
    if (held !== null) {
      this.held = null;
      // 'drain' owed now goes out next tick, outside the caller's loop.
      if (held.release(this.channel)) process.nextTick(fireDrain, this);
    }
    return this.ended;
  }

  /** 100 Continue for `Expect: 100-continue`, once this response is first and only if nothing was sent yet. */
  private sendContinue(): void {
    this.continuePending = false;
    if (!this.rendered) this.channel.send(CONTINUE);
  }

  /**
   * Replace whatever the handler did (nothing sent yet) with an error response from the engine:
   * handler exceptions (500), request timeouts (503). The handler's later calls are ignored.
   */
  supersede(status: number, detail: string, close: boolean): void {
    if (this.ended && !this.superseded) return;
    this.held = null;
    this.continuePending = false;
    this.rendered = false;
    this.headerLocked = false;
    this.declaredLength = -1;
    this.statusCode = status;
    this.statusMessage = '';
    if (close) this.closeAfter = true;
    this.headerList = setHeaderIn(NO_HEADERS, 'Content-Type', 'text/plain; charset=utf-8');
    const text = http.STATUS_CODES[status] ?? 'Error';
    this.ended = false;
    this.superseded = false;
    this.end(detail === '' ? `${text}\n` : `${text}: ${detail}\n`);
    this.superseded = true;
  }

  on(event: ResponseEvent, listener: Listener): this {
    (this.events ??= new ResponseEvents()).on(event, listener);
    return this;
  }

  once(event: ResponseEvent, listener: Listener): this {
    (this.events ??= new ResponseEvents()).once(event, listener);
    return this;
  }

  /** Runs the listeners of an event (the connection calls this). */
  fire(event: ResponseEvent): void {
    this.events?.fire(event);
  }

  get hasListeners(): boolean {
    return this.events !== null;
  }
}

defineUnavailable(FastResponse.prototype, 'res', RESPONSE_UNAVAILABLE);

function fireDrain(res: FastResponse): void {
  res.fire('drain');
}
