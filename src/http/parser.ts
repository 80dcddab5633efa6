// Incremental HTTP/1.1 request parser over Buffers: feed it whatever the socket read, in any split.
//
// Shape. Two phases per message. The head is scanned line by line for LF (a plain loop: a call
// to Buffer.indexOf costs more than scanning a whole request line in JS); bytes of an unfinished
// head are copied out of the read (the caller reuses its buffer), never decoded to strings, and
// joined once when the blank line arrives. A head that came in one read, the usual case, is not
// copied at all: it points into the caller's buffer (see RequestHead.detach). The complete head
// is then parsed in one pass; its fields are checked but not recorded. The body is a byte-level
// state machine: Content-Length, or chunked with extensions and trailers. Feeding a message whole
// or one byte at a time produces the same events.
//
// Strictness, like llhttp's strict mode. Each rule, the status it gets, and why:
//  - Line ends are CRLF. A bare LF or a CR not followed by LF: 400 (a lenient LF is a request-smuggling
//    vector when a proxy in front disagrees).
//  - Empty lines before a request line are skipped (RFC 9112 2.2: clients may send a CRLF after a body).
//  - Request line: `method SP target SP HTTP/x.y`, exactly one space each. A method that is not a token,
//    an empty or control-containing target, or a malformed version: 400. A request line longer than
//    8 KiB: 414. A version other than 1.0/1.1 (HTTP/0.9, HTTP/2.0 over this syntax): 505. A well-formed
//    method node:http does not know: 501 (RFC 9110 15.6.2; node answers 400).
//  - Header names are tokens followed directly by ':' (whitespace before the colon: 400, RFC 9112 5.1).
//    Values may hold VCHAR, SP, HTAB and obs-text; any other control byte (NUL, bare CR, DEL): 400.
//    A line starting with SP/HTAB (obs-fold, RFC 9112 5.2): 400.
//  - Header block (after the request line) over 16 KiB, or more than 100 fields: 431.
//  - HTTP/1.1 without Host, or more than one Host: 400 (RFC 9112 3.2).
//  - Content-Length must be digits only; several Content-Length fields must agree (identical duplicates
//    are accepted as RFC 9110 8.6 allows); a comma list or a differing value: 400.
//  - Transfer-Encoding with Content-Length: 400 (RFC 9112 6.1 allows a server to reject rather than drop
//    the length). Transfer-Encoding in an HTTP/1.0 request: 400 (RFC 9112 6.1: treat as faulty).
//    The last coding must be chunked, and chunked appears once: otherwise 400.
//  - A body over the configured limit: 413, from Content-Length before the body is read, or as soon as
//    the chunk sizes add up past it.
//  - Chunk sizes are 1 to 15 hex digits, no whitespace; chunk extensions are skipped (no control bytes,
//    at most 4 KiB); chunk data is followed by CRLF exactly: otherwise 400. Trailer fields follow the
//    header rules (400 / 431) and are validated, then discarded.
//  - `Expect: 100-continue` on 1.1 is reported to the connection (which sends 100 Continue); any other
//    expectation: 417. Expect on HTTP/1.0 is ignored (RFC 9110 10.1.1).
//  - Keep-alive: 1.1 unless `Connection: close`; 1.0 only with `Connection: keep-alive`. After a message
//    that is not kept alive, and after any error, the parser stops and ignores further bytes.
import http from 'node:http';
import { TOKEN, FIELD_VALUE, TARGET, HEX_VALUE, CR, LF, SP, HTAB, COLON, SEMICOLON } from './chars.ts';
import { RequestHead, BODY_NONE, BODY_LENGTH, BODY_CHUNKED } from './request_head.ts';

export interface ParserLimits {
  /** Largest request line, CRLF excluded (414 above). */
  maxRequestLine: number;
  /** Largest header block (and trailer block), request line excluded (431 above). */
  maxHeaderBytes: number;
  /** Most header fields (431 above). */
  maxHeaders: number;
  /** Largest body in bytes (413 above). */
  bodyLimit: number;
}

export const DEFAULT_LIMITS: ParserLimits = {
  maxRequestLine: 8 * 1024,
  maxHeaderBytes: 16 * 1024,
  maxHeaders: 100,
  bodyLimit: 1024 * 1024,
};

/** Why a request was refused; the connection answers `status` and closes. */
export interface ParseFailure {
  status: number;
  reason: string;
}

/** What the parser reports, in stream order. */
export interface ParserSink {
  onHead(head: RequestHead): void;
  onBody(chunk: Buffer): void;
  onMessageEnd(): void;
  onParseError(failure: ParseFailure): void;
}

const S_HEAD = 0;
const S_BODY_LENGTH = 1;
const S_CHUNK_SIZE = 2;
const S_CHUNK_EXT = 3;
const S_CHUNK_SIZE_LF = 4;
const S_CHUNK_DATA = 5;
const S_CHUNK_DATA_CR = 6;
const S_CHUNK_DATA_LF = 7;
const S_TRAILER_LINE = 8;
const S_TRAILER_NAME = 9;
const S_TRAILER_VALUE = 10;
const S_TRAILER_LF = 11;
const S_END_LF = 12;
const S_STOPPED = 13;

const MAX_CHUNK_EXTENSION = 4096;
const MAX_CHUNK_SIZE_DIGITS = 15; // 15 hex digits stay below 2^60, exact in a double.

const KNOWN_METHODS = new Set(http.METHODS);

export class RequestParser {
  private readonly sink: ParserSink;
  private readonly limits: ParserLimits;
  private state = S_HEAD;
  private stopAfterMessage = false;
  private keepAlive = true;
  /** Bytes arrived after the parser stopped. */
  private ignoredInput = false;

  // Head scan across reads.
  private headParts: Buffer[] | null = null;
  private headLength = 0; // bytes held in headParts
  private lastHeadByte = 0;
  private lineStart = 0; // offset of the current line within the head
  private lineCount = 0;
  private headerBlockStart = 0; // offset where the header block starts (after the request line)

  // Body.
  private remaining = 0;
  private bodyLength = 0;
  private chunkSize = 0;
  private chunkDigits = 0;
  private extensionLength = 0;
  private trailerBytes = 0;
  private trailerFields = 0;

  constructor(sink: ParserSink, limits: ParserLimits = DEFAULT_LIMITS) {
    this.sink = sink;
    this.limits = limits;
  }

  /** True between messages with no byte of the next one received. */
  isIdle(): boolean {
    return this.state === S_HEAD && this.headLength === 0 && this.lineCount === 0;
  }

  isStopped(): boolean {
    return this.state === S_STOPPED;
  }

  /** Ignore every byte from now on. */
  stop(): void {
    this.state = S_STOPPED;
  }

  /** True when bytes arrived after the parser stopped (and were ignored). */
  hasIgnoredInput(): boolean {
    return this.ignoredInput;
  }

  /** Finish the message in progress (if any), then ignore the rest: used when the server drains. */
  finishCurrentMessage(): void {
    if (this.isIdle()) this.state = S_STOPPED;
    else this.stopAfterMessage = true;
  }

  /** Parses buf[0, end): a read may fill only part of its buffer. */
  execute(buf: Buffer, end: number = buf.length): void {
    let p = 0;
    while (p < end) {
      switch (this.state) {
        case S_HEAD:
          p = this.scanHead(buf, p, end);
          break;
        case S_BODY_LENGTH:
        case S_CHUNK_DATA: {
          const n = Math.min(this.remaining, end - p);
          this.remaining -= n;
          this.sink.onBody(buf.subarray(p, p + n));
          p += n;
          if (this.remaining === 0) {
            if (this.state === S_BODY_LENGTH) this.messageEnd();
            else if (this.state === S_CHUNK_DATA) this.state = S_CHUNK_DATA_CR;
          }
          break;
        }
        case S_STOPPED:
          this.ignoredInput = true;
          return;
        default:
          p = this.chunkedByte(buf, p);
      }
    }
  }

  private fail(status: number, reason: string): void {
    this.state = S_STOPPED;
    this.headParts = null;
    this.sink.onParseError({ status, reason });
  }

  private messageEnd(): void {
    this.state = this.keepAlive && !this.stopAfterMessage ? S_HEAD : S_STOPPED;
    this.sink.onMessageEnd();
  }

  /** Scans head lines from p; returns where it stopped (end of buf, or the first byte after the head). */
  private scanHead(buf: Buffer, p: number, end: number): number {
    const limits = this.limits;
    let start = p; // first head byte in this buffer
    for (;;) {
      let lf = p;
      while (lf < end && buf[lf] !== LF) lf++;
      if (lf === end) {
        const length = this.headLength + end - start;
        if (this.lineCount === 0) {
          if (length - this.lineStart > limits.maxRequestLine + 1) {
            this.fail(414, 'request line too long');
            return end;
          }
        } else if (length - this.headerBlockStart > limits.maxHeaderBytes) {
          this.fail(431, 'header block too large');
          return end;
        }
        if (end > start) {
          if (this.headParts === null) this.headParts = [];
          this.headParts.push(Buffer.from(buf.subarray(start, end)));
          this.headLength = length;
          this.lastHeadByte = buf[end - 1];
        }
        return end;
      }
      const before = lf > start ? buf[lf - 1] : this.headLength > 0 ? this.lastHeadByte : -1;
      if (before !== CR) {
        this.fail(400, 'line ending without CR');
        return end;
      }
      const lfOffset = this.headLength + lf - start; // offset of this LF within the head
      const lineLength = lfOffset - 1 - this.lineStart;
      if (lineLength === 0) {
        if (this.lineCount === 0) {
          // An empty line before the request line: skip it.
          this.headParts = null;
          this.headLength = 0;
          this.lineStart = 0;
          start = p = lf + 1;
          continue;
        }
        const headEnd = lf + 1;
        let head = buf;
        let headStart = start;
        let headStop = headEnd;
        const parts = this.headParts;
        const borrowed = parts === null;
        if (!borrowed) {
          parts.push(buf.subarray(start, headEnd));
          head = Buffer.concat(parts, lfOffset + 1);
          headStart = 0;
          headStop = head.length;
        }
        this.headParts = null;
        this.headLength = 0;
        this.lineStart = 0;
        this.lineCount = 0;
        this.parseHead(head, headStart, headStop, borrowed);
        return headEnd;
      }
      if (this.lineCount === 0) {
        if (lineLength > limits.maxRequestLine) {
          this.fail(414, 'request line too long');
          return end;
        }
        this.headerBlockStart = lfOffset + 1;
      } else {
        if (lfOffset + 1 - this.headerBlockStart > limits.maxHeaderBytes) {
          this.fail(431, 'header block too large');
          return end;
        }
        if (this.lineCount > limits.maxHeaders) {
          this.fail(431, 'too many header fields');
          return end;
        }
      }
      this.lineCount++;
      this.lineStart = lfOffset + 1;
      p = lf + 1;
    }
  }

  /**
   * Parses a complete head buf[start, end) that ends with CRLF CRLF and emits it. `borrowed`: buf
   * is the caller's read buffer, not a copy of our own.
   */
  private parseHead(buf: Buffer, start: number, end: number, borrowed: boolean): void {
    // Every LF in the head follows a CR (scanHead checked), and no byte class below holds CR or
    // LF, so each loop stops at the end of its line at the latest.
    let i = start;
    while (TOKEN[buf[i]] === 1) i++;
    if (i === start || buf[i] !== SP) return this.fail(400, 'malformed method');
    const method = methodName(buf, start, i);
    i++;
    const targetStart = i;
    while (TARGET[buf[i]] === 1) i++;
    if (i === targetStart || buf[i] !== SP) return this.fail(400, 'malformed request target');
    const targetEnd = i;
    i++;
    if (
      buf[i + 8] !== CR || buf[i + 9] !== LF || buf[i] !== 0x48 || buf[i + 1] !== 0x54 || buf[i + 2] !== 0x54 || buf[i + 3] !== 0x50 ||
      buf[i + 4] !== 0x2f || buf[i + 6] !== 0x2e
    ) {
      return this.fail(400, 'malformed HTTP version');
    }
    const major = buf[i + 5] - 0x30;
    const minor = buf[i + 7] - 0x30;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) return this.fail(400, 'malformed HTTP version');
    if (major !== 1 || minor > 1) return this.fail(505, 'HTTP version not supported');
    if (method === null) return this.fail(501, 'method not implemented');

    const head = new RequestHead(method, requestTarget(buf, targetStart, targetEnd), minor, buf, i + 10, end - 2, borrowed);
    let hosts = 0;
    let contentLength = -1;
    let transferEncoding = false;
    let chunkedLast = false;
    let chunkedCount = 0;
    let connectionClose = false;
    let connectionKeepAlive = false;

    let p = i + 10;
    const blockEnd = end - 2; // the final empty line
    while (p < blockEnd) {
      const first = buf[p];
      if (first === SP || first === HTAB) return this.fail(400, 'obsolete line folding');
      let q = p;
      while (TOKEN[buf[q]] === 1) q++;
      if (q === p || buf[q] !== COLON) return this.fail(400, 'malformed header name');
      const nameEnd = q;
      q++;
      while (buf[q] === SP || buf[q] === HTAB) q++;
      const valueStart = q;
      while (FIELD_VALUE[buf[q]] === 1) q++;
      if (buf[q] !== CR || buf[q + 1] !== LF) return this.fail(400, 'invalid character in header value');
      const cr = q;
      let valueEnd = cr;
      while (valueEnd > valueStart && (buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HTAB)) valueEnd--;

      switch (nameEnd - p) {
        case 4:
          if (nameIs(buf, p, 'host')) hosts++;
          break;
        case 6:
          if (nameIs(buf, p, 'expect') && minor === 1) {
            if (valueEnd - valueStart === 12 && nameIs(buf, valueStart, '100-continue')) head.expectContinue = true;
            else return this.fail(417, 'unsupported expectation');
          }
          break;
        case 7:
          if (head.refererStart === -1 && nameIs(buf, p, 'referer')) {
            head.refererStart = valueStart;
            head.refererEnd = valueEnd;
          }
          break;
        case 10:
          if (head.userAgentStart === -1 && nameIs(buf, p, 'user-agent')) {
            head.userAgentStart = valueStart;
            head.userAgentEnd = valueEnd;
          } else if (nameIs(buf, p, 'connection')) {
            let s = valueStart;
            while (s < valueEnd) {
              let e = s;
              while (e < valueEnd && buf[e] !== 0x2c) e++; // ','
              let ts = s;
              let te = e;
              while (ts < te && (buf[ts] === SP || buf[ts] === HTAB)) ts++;
              while (te > ts && (buf[te - 1] === SP || buf[te - 1] === HTAB)) te--;
              if (te - ts === 5 && nameIs(buf, ts, 'close')) connectionClose = true;
              else if (te - ts === 10 && nameIs(buf, ts, 'keep-alive')) connectionKeepAlive = true;
              s = e + 1;
            }
          }
          break;
        case 14:
          if (nameIs(buf, p, 'content-length')) {
            if (valueEnd === valueStart || valueEnd - valueStart > 15) return this.fail(400, 'invalid Content-Length');
            let n = 0;
            for (let k = valueStart; k < valueEnd; k++) {
              const d = buf[k] - 0x30;
              if (d < 0 || d > 9) return this.fail(400, 'invalid Content-Length');
              n = n * 10 + d;
            }
            if (contentLength !== -1 && contentLength !== n) return this.fail(400, 'differing Content-Length values');
            contentLength = n;
          }
          break;
        case 17:
          if (nameIs(buf, p, 'transfer-encoding')) {
            transferEncoding = true;
            let s = valueStart;
            while (s <= valueEnd) {
              let e = s;
              while (e < valueEnd && buf[e] !== 0x2c) e++;
              let ts = s;
              let te = e;
              while (ts < te && (buf[ts] === SP || buf[ts] === HTAB)) ts++;
              while (te > ts && (buf[te - 1] === SP || buf[te - 1] === HTAB)) te--;
              if (te === ts) return this.fail(400, 'empty transfer coding');
              chunkedLast = te - ts === 7 && nameIs(buf, ts, 'chunked');
              if (chunkedLast) chunkedCount++;
              s = e + 1;
            }
          }
          break;
      }
      p = cr + 2;
    }

    if (minor === 1 && hosts === 0) return this.fail(400, 'missing Host header');
    if (hosts > 1) return this.fail(400, 'more than one Host header');
    if (transferEncoding) {
      if (contentLength !== -1) return this.fail(400, 'both Content-Length and Transfer-Encoding');
      if (minor === 0) return this.fail(400, 'Transfer-Encoding in an HTTP/1.0 request');
      if (!chunkedLast || chunkedCount !== 1) return this.fail(400, 'Transfer-Encoding does not end with chunked');
      head.bodyKind = BODY_CHUNKED;
    } else if (contentLength > 0) {
      if (contentLength > this.limits.bodyLimit) return this.fail(413, 'body over the limit');
      head.bodyKind = BODY_LENGTH;
      head.contentLength = contentLength;
    } else {
      head.bodyKind = BODY_NONE;
      head.contentLength = 0;
    }
    if (head.bodyKind === BODY_NONE) head.expectContinue = false;
    head.keepAlive = minor === 1 ? !connectionClose : connectionKeepAlive && !connectionClose;
    this.keepAlive = head.keepAlive;

    this.sink.onHead(head);
    if (this.state === S_STOPPED) return;
    if (head.bodyKind === BODY_CHUNKED) {
      this.state = S_CHUNK_SIZE;
      this.bodyLength = 0;
      this.chunkSize = 0;
      this.chunkDigits = 0;
    } else if (head.bodyKind === BODY_LENGTH) {
      this.state = S_BODY_LENGTH;
      this.remaining = contentLength;
    } else {
      this.messageEnd();
    }
  }

  /** One byte of chunked framing (sizes, extensions, CRLFs, trailers). Returns the next position. */
  private chunkedByte(buf: Buffer, p: number): number {
    const c = buf[p];
    switch (this.state) {
      case S_CHUNK_SIZE: {
        const h = HEX_VALUE[c];
        if (h >= 0) {
          if (++this.chunkDigits > MAX_CHUNK_SIZE_DIGITS) this.fail(400, 'chunk size too long');
          else this.chunkSize = this.chunkSize * 16 + h;
        } else if (this.chunkDigits === 0) this.fail(400, 'invalid chunk size');
        else if (c === CR) this.state = S_CHUNK_SIZE_LF;
        else if (c === SEMICOLON) {
          this.state = S_CHUNK_EXT;
          this.extensionLength = 0;
        } else this.fail(400, 'invalid chunk size');
        return p + 1;
      }
      case S_CHUNK_EXT:
        if (c === CR) this.state = S_CHUNK_SIZE_LF;
        else if (FIELD_VALUE[c] === 0) this.fail(400, 'invalid character in chunk extension');
        else if (++this.extensionLength > MAX_CHUNK_EXTENSION) this.fail(400, 'chunk extension too long');
        return p + 1;
      case S_CHUNK_SIZE_LF:
        if (c !== LF) {
          this.fail(400, 'chunk size line ending without LF');
        } else if (this.chunkSize === 0) {
          this.state = S_TRAILER_LINE;
          this.trailerBytes = 0;
          this.trailerFields = 0;
        } else {
          this.bodyLength += this.chunkSize;
          if (this.bodyLength > this.limits.bodyLimit) {
            this.fail(413, 'body over the limit');
          } else {
            this.state = S_CHUNK_DATA;
            this.remaining = this.chunkSize;
          }
        }
        return p + 1;
      case S_CHUNK_DATA_CR:
        if (c === CR) this.state = S_CHUNK_DATA_LF;
        else this.fail(400, 'chunk data not followed by CRLF');
        return p + 1;
      case S_CHUNK_DATA_LF:
        if (c === LF) {
          this.state = S_CHUNK_SIZE;
          this.chunkSize = 0;
          this.chunkDigits = 0;
        } else this.fail(400, 'chunk data not followed by CRLF');
        return p + 1;
      case S_END_LF:
        if (c === LF) this.messageEnd();
        else this.fail(400, 'line ending without LF');
        return p + 1;
    }
    // Trailer section.
    if (++this.trailerBytes > this.limits.maxHeaderBytes) {
      this.fail(431, 'trailer block too large');
      return p + 1;
    }
    switch (this.state) {
      case S_TRAILER_LINE:
        if (c === CR) this.state = S_END_LF;
        else if (TOKEN[c] === 1) {
          if (++this.trailerFields > this.limits.maxHeaders) this.fail(431, 'too many trailer fields');
          else this.state = S_TRAILER_NAME;
        } else this.fail(400, c === SP || c === HTAB ? 'obsolete line folding' : 'malformed trailer name');
        break;
      case S_TRAILER_NAME:
        if (c === COLON) this.state = S_TRAILER_VALUE;
        else if (TOKEN[c] === 0) this.fail(400, 'malformed trailer name');
        break;
      case S_TRAILER_VALUE:
        if (c === CR) this.state = S_TRAILER_LF;
        else if (FIELD_VALUE[c] === 0) this.fail(400, 'invalid character in trailer value');
        break;
      case S_TRAILER_LF:
        if (c === LF) this.state = S_TRAILER_LINE;
        else this.fail(400, 'line ending without LF');
        break;
    }
    return p + 1;
  }
}

/** Case-insensitive match of buf at p against a lower-case literal of letters, digits and '-'. */
function nameIs(buf: Buffer, p: number, lower: string): boolean {
  for (let k = 0; k < lower.length; k++) if ((buf[p + k] | 0x20) !== lower.charCodeAt(k)) return false;
  return true;
}

// The last request target decoded: a server asked for the same path again (a health check, a
// benchmark, a hot page) reuses the string instead of decoding it.
let lastTarget = '/';

/** The request target as a string (latin1, as node decodes it). */
function requestTarget(buf: Buffer, start: number, end: number): string {
  const cached = lastTarget;
  if (end - start === cached.length) {
    let k = 0;
    while (k < cached.length && buf[start + k] === cached.charCodeAt(k)) k++;
    if (k === cached.length) return cached;
  }
  lastTarget = buf.toString('latin1', start, end);
  return lastTarget;
}

/** The method as a string (constants for the common ones, no decoding); null when node:http does not know it. */
function methodName(buf: Buffer, start: number, end: number): string | null {
  const length = end - start;
  const c = buf[start];
  if (length === 3 && c === 0x47 && buf[start + 1] === 0x45 && buf[start + 2] === 0x54) return 'GET';
  if (length === 4 && c === 0x50 && buf[start + 1] === 0x4f && buf[start + 2] === 0x53 && buf[start + 3] === 0x54) return 'POST';
  if (length === 4 && c === 0x48 && buf[start + 1] === 0x45 && buf[start + 2] === 0x41 && buf[start + 3] === 0x44) return 'HEAD';
  const name = buf.toString('latin1', start, end);
  return KNOWN_METHODS.has(name) ? name : null;
}
