// A response head on the wire: the status line, the headers, Date, Connection and the framing
// (Content-Length, chunked, or until close), decided from what the handler set and the body known
// at the time; and the last whole response encoded, so the same answer again costs a compare.
// One renderer per engine (the cache is shared by its connections); it keeps nothing per response.
import http from 'node:http';
import { dateHeaderLine } from './date_header.ts';
import { NO_HEADERS } from './response_headers.ts';
import type { HeaderList } from './response_headers.ts';

export const FRAMING_NONE = 0; // no body bytes on the wire (HEAD, 1xx, 204, 304)
export const FRAMING_LENGTH = 1; // Content-Length
export const FRAMING_CHUNKED = 2;
export const FRAMING_CLOSE = 3; // body ends when the connection closes (HTTP/1.0 streaming)
export type Framing = typeof FRAMING_NONE | typeof FRAMING_LENGTH | typeof FRAMING_CHUNKED | typeof FRAMING_CLOSE;

/** What the renderer reads of a response, and the framing it decides for it. */
export interface HeadState {
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly headerList: HeaderList;
  /** A HEAD request's answer: the head only. */
  readonly omitBody: boolean;
  readonly versionMinor: number;
  /** In: the connection closes after this response; the renderer sets it too (Connection: close, framing by close). */
  closeAfter: boolean;
  framing: Framing;
  /** A Content-Length the handler set; -1 when none. */
  declaredLength: number;
}

const STATUS_LINES: string[] = [];
for (const [code, text] of Object.entries(http.STATUS_CODES)) STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${text}\r\n`;

const CONNECTION_CLOSE = 'Connection: close\r\n';
const CHUNKED = 'Transfer-Encoding: chunked\r\n';
export const LAST_CHUNK = Buffer.from('0\r\n\r\n', 'latin1');
export const CONTINUE = Buffer.from('HTTP/1.1 100 Continue\r\n\r\n', 'latin1');

/** The last response encoded, kept whole: a handler that answers the same status, headers and body again gets the same bytes. */
export interface EncodedResponse {
  readonly bytes: Buffer;
  /** Body bytes in `bytes`. */
  readonly bodyLength: number;
  /** Where the head's final CRLF starts in `bytes`: a request id line goes in there. */
  readonly headEnd: number;
}

class EncodedResponseCache implements EncodedResponse {
  status = 0;
  message = '';
  headers: HeaderList = NO_HEADERS;
  body = '';
  bodyLength = 0;
  omitBody = false;
  connectionLines = '';
  dateLine = '';
  bytes: Buffer = Buffer.alloc(0);
  headEnd = 0;
  filled = false;
}

export class HeadRenderer {
  /** 'Connection: keep-alive\r\n...' as this engine announces it. */
  private readonly keepAliveLines: string;
  private readonly cache = new EncodedResponseCache();

  constructor(keepAliveTimeoutMs: number) {
    const seconds = Math.floor(keepAliveTimeoutMs / 1000);
    this.keepAliveLines = 'Connection: keep-alive\r\n' + (seconds > 0 ? `Keep-Alive: timeout=${seconds}\r\n` : '');
  }

  /** The head, ending with its empty line; sets res.framing, res.declaredLength and maybe res.closeAfter. `knownLength`: the body's, or -1 (streaming). */
  render(res: HeadState, knownLength: number, now: number): string {
    const status = res.statusCode;
    let s = res.statusMessage === '' ? (STATUS_LINES[status] ?? `HTTP/1.1 ${status} unknown\r\n`) : `HTTP/1.1 ${status} ${res.statusMessage}\r\n`;
    let hasDate = false;
    let hasConnection = false;
    let transferEncoding: string | null = null;
    let declaredLength = -1;
    const h = res.headerList;
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
        if (/(^|,)\s*close\s*(,|$)/i.test(String(value))) res.closeAfter = true;
      } else if (lower === 'content-length') declaredLength = Number(value);
      else if (lower === 'transfer-encoding') transferEncoding = String(value);
    }
    res.declaredLength = declaredLength;
    if (!hasDate) s += dateHeaderLine(now);

    let framing: Framing;
    if (res.omitBody || status < 200 || status === 204 || status === 304) {
      framing = FRAMING_NONE;
      // A HEAD response announces the length a GET would have had (RFC 9110 9.3.2).
      if (res.omitBody && knownLength >= 0 && declaredLength === -1 && transferEncoding === null && status >= 200 && status !== 204 && status !== 304) {
        s += 'Content-Length: ' + knownLength + '\r\n';
      }
    } else if (declaredLength !== -1) {
      framing = FRAMING_LENGTH;
    } else if (transferEncoding !== null) {
      framing = /chunked\s*$/i.test(transferEncoding) ? FRAMING_CHUNKED : FRAMING_CLOSE;
    } else if (knownLength >= 0) {
      framing = FRAMING_LENGTH;
      s += 'Content-Length: ' + knownLength + '\r\n';
    } else if (res.versionMinor === 1) {
      framing = FRAMING_CHUNKED;
      s += CHUNKED;
    } else {
      framing = FRAMING_CLOSE;
    }
    res.framing = framing;
    if (framing === FRAMING_CLOSE) res.closeAfter = true;
    if (!hasConnection) s += res.closeAfter ? CONNECTION_CLOSE : this.keepAliveLines;
    return s + '\r\n';
  }

  /** The cached encoding of this response with a string body (not yet rendered), or null; sets res.framing when found. */
  cached(res: HeadState, body: string, now: number): EncodedResponse | null {
    const c = this.cache;
    if (!c.filled || c.status !== res.statusCode || c.body !== body || c.omitBody !== res.omitBody) return null;
    const h = res.headerList;
    if (c.message !== res.statusMessage || c.headers.length !== h.length) return null;
    if (c.connectionLines !== (res.closeAfter ? CONNECTION_CLOSE : this.keepAliveLines)) return null;
    if (c.dateLine !== dateHeaderLine(now)) return null;
    for (let k = 0; k < h.length; k += 3) {
      if (c.headers[k] !== h[k] || c.headers[k + 2] !== h[k + 2]) return null;
    }
    const status = res.statusCode;
    res.framing = res.omitBody || status < 200 || status === 204 || status === 304 ? FRAMING_NONE : FRAMING_LENGTH;
    return c;
  }

  /** Keeps a whole response just rendered by render(res, ...) for cached(); `headEnd`: where its head's final CRLF starts. */
  remember(res: HeadState, body: string, bodyLength: number, bytes: Buffer, headEnd: number, now: number): void {
    // Only responses whose framing the engine chose; user-set framing or Date headers are not cached.
    const h = res.headerList;
    for (let k = 0; k < h.length; k += 3) {
      if (typeof h[k + 2] === 'object') return;
      const lower = h[k + 1];
      if (lower === 'date' || lower === 'connection' || lower === 'content-length' || lower === 'transfer-encoding') return;
    }
    const c = this.cache;
    c.status = res.statusCode;
    c.message = res.statusMessage;
    c.headers = h;
    c.body = body;
    c.bodyLength = bodyLength;
    c.omitBody = res.omitBody;
    c.connectionLines = res.closeAfter ? CONNECTION_CLOSE : this.keepAliveLines;
    c.dateLine = dateHeaderLine(now);
    c.bytes = bytes;
    c.headEnd = headEnd;
    c.filled = true;
  }
}

/** One piece of a body on the wire: `head` (a rendered head, or ''), then `body` framed as `framing` says. */
export function framedBody(head: string, body: Uint8Array, framing: Framing): Buffer {
  if (framing === FRAMING_CHUNKED) head += body.length.toString(16) + '\r\n';
  const tail = framing === FRAMING_CHUNKED ? 2 : 0;
  const out = Buffer.allocUnsafe(head.length + body.length + tail);
  out.write(head, 0, 'latin1');
  out.set(body, head.length);
  if (tail === 2) {
    out[out.length - 2] = 13;
    out[out.length - 1] = 10;
  }
  return out;
}

/** `bytes` (a whole response) with an X-Request-Id line put in before the head's final CRLF at `headEnd`. */
export function withRequestId(bytes: Buffer, headEnd: number, id: string): Buffer {
  const line = requestIdLine(id);
  const out = Buffer.allocUnsafe(bytes.length + line.length);
  bytes.copy(out, 0, 0, headEnd);
  out.write(line, headEnd, 'latin1');
  bytes.copy(out, headEnd + line.length, headEnd);
  return out;
}

/** A rendered head (ending with its empty line) with an X-Request-Id line before that empty line. */
export function headWithRequestId(head: string, id: string): string {
  return head.slice(0, -2) + requestIdLine(id) + '\r\n';
}

function requestIdLine(id: string): string {
  return 'X-Request-Id: ' + id + '\r\n';
}
