// Incremental HTTP/1.1 request parser over Buffers: feed it whatever the socket read, in any split.
//
// Shape. The head is a byte-level state machine (H_* states) that scans each byte class in a tight
// loop (a span: method, target, name, value) and changes state only at delimiters, so a head in one
// read costs one pass and no copy: it points into the caller's buffer (see RequestHead.detach).
// Bytes of an unfinished head are copied out of the read (the caller reuses its buffer), never
// decoded to strings, and joined once when the blank line arrives; positions are offsets within the
// head, so a split head is judged exactly like a whole one. Every byte is judged as it is scanned:
// the first byte no valid request can continue fails the request then and there, without waiting
// for a line end or the head timeout (a TLS ClientHello fails on its first byte). The body is a
// byte-level state machine too: Content-Length, or chunked with extensions and trailers. Feeding a
// message whole or one byte at a time produces the same events, failures included.
//
// Strictness, like llhttp's strict mode. Each rule, the status it gets, and why; each is pinned by
// a fixture in test/http/corpus.ts (INVALID for whole requests, INVALID_PREFIXES for the byte at
// which the refusal comes):
//  - Line ends are CRLF. A bare LF, or a CR followed by anything but LF: 400 at that byte (a lenient
//    LF is a request-smuggling vector when a proxy in front disagrees).
//  - Empty lines before a request line are skipped (RFC 9112 2.2: clients may send a CRLF after a body).
//  - Request line: `method SP target SP HTTP/x.y`, exactly one space each. A method byte that is not a
//    tchar, an empty target, a target byte that is not visible ASCII (control bytes, and raw UTF-8,
//    which RFC 3986 says is percent-encoded), or a byte that breaks `HTTP/DIGIT.DIGIT CRLF`: 400. More
//    than 8 KiB before the CRLF: 414 at the first byte past it. A version digit that rules out 1.0 and
//    1.1 (HTTP/0.9, HTTP/2.0, HTTP/5.6): 505 at that digit. A method node:http does not know: 501 at
//    the space after it (RFC 9110 15.6.2; node answers 400).
//  - Header names are tchars followed directly by ':' (whitespace before the colon: 400, RFC 9112 5.1).
//    Values may hold VCHAR, SP, HTAB and obs-text; any other control byte (NUL, bare CR, DEL): 400.
//    A line starting with SP/HTAB (obs-fold, RFC 9112 5.2): 400.
//  - Header block (after the request line) over 16 KiB: 431 at the first byte past it; a 101st field:
//    431 at its first byte.
//  - More than one Host: 400 at the second one's colon. HTTP/1.1 without Host: 400 at the end of the
//    head (RFC 9112 3.2).
//  - Content-Length is 1 to 15 digits, nothing else (a sign, a comma list, a 16th digit: 400 at that
//    byte; 15 digits stay exact in a double). A second Content-Length, even an identical one: 400 at
//    its colon (as llhttp; RFC 9110 8.6 lets a recipient refuse them).
//  - Transfer-Encoding with Content-Length, in either order: 400 at the second one's colon (RFC 9112
//    6.1 allows a server to reject rather than drop the length). Transfer-Encoding in an HTTP/1.0
//    request: 400 at its colon (RFC 9112 6.1: treat as faulty). An empty coding, or any coding after
//    chunked: 400 at that line's end; no chunked at the end of the head: 400.
//  - A body over the configured limit: 413, at the Content-Length digit that passes it, or as soon as
//    the chunk sizes add up past it.
//  - Chunk sizes are 1 to 15 hex digits; extensions are `;name` or `;name=value` (value a token or a
//    quoted string), no whitespace (as llhttp), at most 4 KiB: a bare `;`, an empty name or value, a
//    space or a control byte is 400 at that byte. Chunk data is followed by CRLF exactly: otherwise 400.
//    Trailer fields follow the header rules (400 / 431) and are validated, then discarded.
//  - `Expect: 100-continue` on 1.1 is reported to the connection (which sends 100 Continue); any other
//    expectation: 417 at its line end. Expect on HTTP/1.0 is ignored (RFC 9110 10.1.1).
//  - Keep-alive: 1.1 unless `Connection: close`; 1.0 only with `Connection: keep-alive`. After a message
//    that is not kept alive, and after any error, the parser stops and ignores further bytes.
import http from 'node:http';
import { TOKEN, FIELD_VALUE, TARGET, HEX_VALUE, CR, LF, SP, HTAB, COLON, COMMA, SEMICOLON, EQUALS, DQUOTE, BACKSLASH } from './chars.ts';
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
const S_CHUNK_SIZE_LF = 3;
const S_CHUNK_DATA = 4;
const S_CHUNK_DATA_CR = 5;
const S_CHUNK_DATA_LF = 6;
const S_TRAILER_LINE = 7;
const S_TRAILER_NAME = 8;
const S_TRAILER_VALUE = 9;
const S_TRAILER_LF = 10;
const S_END_LF = 11;
const S_STOPPED = 12;
// Chunk extensions: *( ";" name [ "=" ( token / quoted-string ) ] ), without the optional
// whitespace (BWS) RFC 9112 7.1.1 allows, as llhttp refuses it: parsers that disagree on framing
// are how requests are smuggled past a proxy.
const S_EXT_NAME_START = 13;
const S_EXT_NAME = 14;
const S_EXT_VALUE_START = 15;
const S_EXT_VALUE = 16;
const S_EXT_QUOTED = 17;
const S_EXT_ESCAPE = 18;
const S_EXT_AFTER_QUOTED = 19;

// Head states (within S_HEAD).
const H_START = 0; // before a request line; empty lines are skipped
const H_START_LF = 1; // CR of such an empty line
const H_METHOD = 2;
const H_TARGET = 3;
const H_VERSION = 4; // versionIndex bytes of "HTTP/x.y" seen, then its CR
const H_LINE_LF = 5; // CR that ends the request line or a field line
const H_FIELD_START = 6;
const H_NAME = 7;
const H_OWS = 8; // after the colon
const H_VALUE = 9;
const H_LENGTH = 10; // Content-Length digits
const H_LENGTH_OWS = 11;
const H_END_LF = 12; // CR of the empty line that ends the head

// The fields the parser acts on.
const F_OTHER = 0;
const F_CONTENT_LENGTH = 1;
const F_TRANSFER_ENCODING = 2;
const F_CONNECTION = 3;
const F_EXPECT = 4;
const F_REFERER = 5;
const F_USER_AGENT = 6;

// Why a field value is refused (fieldValue's result; 0 is none).
const FIELD_EXPECTATION = 1;
const FIELD_EMPTY_CODING = 2;
const FIELD_NOT_CHUNKED_LAST = 3;
const FIELD_FAILURES = ['', 'unsupported expectation', 'empty transfer coding', 'Transfer-Encoding does not end with chunked'];

const NO_LIMIT = Number.POSITIVE_INFINITY;
const VERSION_PREFIX = [0x48, 0x54, 0x54, 0x50, 0x2f]; // "HTTP/"
const MAX_LENGTH_DIGITS = 15; // 15 decimal digits stay below 2^53: exact in a double.
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

  // The head in progress. Its bytes from earlier reads are copied into headParts; positions are
  // offsets within the head (0 is the first byte of the request line).
  private headState = H_START;
  private headParts: Buffer[] | null = null;
  private headLength = 0; // bytes held in headParts
  /** The offset from which bytes break a limit (request line 414, header block 431). */
  private limitAt = NO_LIMIT;
  /** Where the current target, name or value starts; at the end, where the header block ends. */
  private markAt = 0;
  private versionIndex = 0;
  private headerBlockStart = -1; // -1 while the request line is read
  private method = '';
  private target = '';
  private minor = 1;
  private fields = 0;
  /** The field whose value is being read (F_*). */
  private field = F_OTHER;
  private hosts = 0;
  private contentLength = -1;
  private lengthDigits = 0;
  private transferEncoding = false;
  private chunkedLast = false;
  private connectionClose = false;
  private connectionKeepAlive = false;
  private expectContinue = false;
  private refererStart = -1;
  private refererEnd = 0;
  private userAgentStart = -1;
  private userAgentEnd = 0;

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
    return this.state === S_HEAD && this.headState === H_START;
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

  /**
   * Runs the head machine from p; returns where it stopped (end of buf, or the first byte after the
   * head). Byte classes are scanned in tight loops (spans); the state changes only at delimiters.
   * Each byte is judged when it is scanned: the first one no valid head can continue fails the
   * request at once. Positions are kept as offsets within the head (`abs`), so a head split over
   * reads is judged exactly like a whole one; `base` turns them into indexes of buf.
   */
  private scanHead(buf: Buffer, p: number, end: number): number {
    const limits = this.limits;
    let base = this.headLength - p; // abs offset of buf[i] is base + i
    let hs = this.headState;
    // Bytes past this offset break a limit; the span loops stop there.
    let limit = this.limitAt;
    for (;;) {
      if (p === end) {
        this.headState = hs;
        this.limitAt = limit;
        if (hs >= H_METHOD) this.keepHeadBytes(buf, base, end);
        return end;
      }
      if (base + p >= limit) {
        if (hs === H_FIELD_START && buf[p] === CR) {
          limit = NO_LIMIT; // the empty line ending the head is not part of the header block
        } else {
          const requestLine = this.headerBlockStart < 0;
          this.fail(requestLine ? 414 : 431, requestLine ? 'request line too long' : 'header block too large');
          return end;
        }
      }
      const spanEnd = Math.min(end, limit - base);
      switch (hs) {
        case H_START: {
          const c = buf[p];
          if (c === CR) {
            hs = H_START_LF;
            p++;
          } else if (TOKEN[c] === 1) {
            // The request line starts here.
            this.startMessage();
            base = -p;
            limit = limits.maxRequestLine;
            hs = H_METHOD;
          } else return this.failHead(c === LF ? 'line ending without CR' : 'malformed method', end);
          break;
        }
        case H_START_LF:
          if (buf[p] !== LF) return this.failHead('CR not followed by LF', end);
          hs = H_START; // an empty line before the request line: skipped (RFC 9112 2.2)
          p++;
          break;
        case H_METHOD: {
          while (p < spanEnd && TOKEN[buf[p]] === 1) p++;
          if (p === spanEnd) continue;
          if (buf[p] !== SP) return this.failHead('malformed method', end);
          const method = this.methodAt(buf, base, base + p);
          if (method === null) {
            this.fail(501, 'method not implemented');
            return end;
          }
          this.method = method;
          p++;
          this.markAt = base + p;
          hs = H_TARGET;
          break;
        }
        case H_TARGET: {
          while (p < spanEnd && TARGET[buf[p]] === 1) p++;
          if (p === spanEnd) continue;
          if (buf[p] !== SP || base + p === this.markAt) return this.failHead('malformed request target', end);
          this.target = this.targetAt(buf, base, this.markAt, base + p);
          p++;
          this.versionIndex = 0;
          hs = H_VERSION;
          break;
        }
        case H_VERSION: {
          // "HTTP/" DIGIT "." DIGIT, byte by byte: 505 as soon as a digit says the version is not 1.0 or 1.1.
          const c = buf[p];
          const k = this.versionIndex;
          if (k < 5) {
            if (c !== VERSION_PREFIX[k]) return this.failHead('malformed HTTP version', end);
          } else if (k === 5 || k === 7) {
            const d = c - 0x30;
            if (d < 0 || d > 9) return this.failHead('malformed HTTP version', end);
            if (k === 5 ? d !== 1 : d > 1) {
              this.fail(505, 'HTTP version not supported');
              return end;
            }
            if (k === 7) {
              this.minor = d;
              limit = NO_LIMIT; // only CRLF may follow, and it does not count
            }
          } else if (k === 6) {
            if (c !== 0x2e) return this.failHead('malformed HTTP version', end);
          } else if (c === CR) {
            hs = H_LINE_LF;
          } else {
            return this.failHead(c === LF ? 'line ending without CR' : 'malformed HTTP version', end);
          }
          this.versionIndex = k + 1;
          p++;
          break;
        }
        case H_LINE_LF:
          if (buf[p] !== LF) return this.failHead('CR not followed by LF', end);
          p++;
          if (this.headerBlockStart < 0) {
            this.headerBlockStart = base + p;
            limit = base + p + limits.maxHeaderBytes;
          }
          hs = H_FIELD_START;
          break;
        case H_FIELD_START: {
          const c = buf[p];
          if (c === CR) {
            this.markAt = base + p; // where the header block ends
            hs = H_END_LF;
            p++;
          } else if (TOKEN[c] === 1) {
            if (++this.fields > limits.maxHeaders) {
              this.fail(431, 'too many header fields');
              return end;
            }
            this.markAt = base + p;
            hs = H_NAME;
          } else {
            return this.failHead(c === SP || c === HTAB ? 'obsolete line folding' : c === LF ? 'line ending without CR' : 'malformed header name', end);
          }
          break;
        }
        case H_NAME: {
          while (p < spanEnd && TOKEN[buf[p]] === 1) p++;
          if (p === spanEnd) continue;
          if (buf[p] !== COLON) return this.failHead('malformed header name', end);
          const failure = this.fieldNamed(buf, base, this.markAt, base + p);
          if (failure !== null) return this.failHead(failure, end);
          p++;
          hs = H_OWS;
          break;
        }
        case H_OWS: {
          const c = buf[p];
          if (c === SP || c === HTAB) {
            p++;
          } else if (this.field === F_CONTENT_LENGTH) {
            if (c === CR) return this.failHead('invalid Content-Length', end);
            this.lengthDigits = 0;
            hs = H_LENGTH;
          } else if (c === CR) {
            if (this.field !== F_OTHER) {
              const failure = this.fieldValue(buf, base, base + p, base + p);
              if (failure !== 0) return this.failWith(failure, end);
            }
            hs = H_LINE_LF;
            p++;
          } else if (FIELD_VALUE[c] === 1) {
            this.markAt = base + p;
            hs = H_VALUE;
          } else return this.failHead(c === LF ? 'line ending without CR' : 'invalid character in header value', end);
          break;
        }
        case H_VALUE: {
          while (p < spanEnd && FIELD_VALUE[buf[p]] === 1) p++;
          if (p === spanEnd) continue;
          if (buf[p] !== CR) return this.failHead(buf[p] === LF ? 'line ending without CR' : 'invalid character in header value', end);
          if (this.field !== F_OTHER) {
            const failure = this.fieldValue(buf, base, this.markAt, base + p);
            if (failure !== 0) return this.failWith(failure, end);
          }
          hs = H_LINE_LF;
          p++;
          break;
        }
        case H_LENGTH: {
          // Digits only, judged one by one: a sign, a comma list or a 16th digit fails here.
          const c = buf[p];
          const d = c - 0x30;
          if (d >= 0 && d <= 9) {
            if (++this.lengthDigits > MAX_LENGTH_DIGITS) return this.failHead('Content-Length too large', end);
            this.contentLength = this.contentLength * 10 + d;
            if (this.contentLength > limits.bodyLimit) {
              this.fail(413, 'body over the limit');
              return end;
            }
          } else if (this.lengthDigits === 0) {
            return this.failHead('invalid Content-Length', end);
          } else if (c === CR) {
            hs = H_LINE_LF;
          } else if (c === SP || c === HTAB) {
            hs = H_LENGTH_OWS;
          } else return this.failHead('invalid Content-Length', end);
          p++;
          break;
        }
        case H_LENGTH_OWS: {
          const c = buf[p];
          if (c === CR) hs = H_LINE_LF;
          else if (c !== SP && c !== HTAB) return this.failHead('invalid Content-Length', end);
          p++;
          break;
        }
        case H_END_LF:
          if (buf[p] !== LF) return this.failHead('CR not followed by LF', end);
          this.headState = H_START;
          this.limitAt = NO_LIMIT;
          this.completeHead(buf, base, p + 1);
          return p + 1;
      }
    }
  }

  /** Copies the unfinished head's bytes of this read: the caller reuses its buffer. */
  private keepHeadBytes(buf: Buffer, base: number, end: number): void {
    const from = this.headLength - base;
    if (end <= from) return;
    const part = Buffer.from(buf.subarray(from, end));
    if (this.headParts === null) this.headParts = [part];
    else this.headParts.push(part);
    this.headLength = base + end;
  }

  /**
   * The head's bytes [from, to) (abs offsets, to within this read). In this read's buffer when they
   * are all there (the usual case); else joined with the parts kept from earlier reads.
   */
  private headBytes(buf: Buffer, base: number, from: number, to: number): Buffer {
    if (from >= this.headLength) return buf.subarray(from - base, to - base);
    const joined = Buffer.concat([...this.headParts!, buf.subarray(this.headLength - base, to - base)]);
    return joined.subarray(from, to);
  }

  private failHead(reason: string, end: number): number {
    this.fail(400, reason);
    return end;
  }

  private failWith(failure: number, end: number): number {
    if (failure === FIELD_EXPECTATION) this.fail(417, 'unsupported expectation');
    else this.fail(400, FIELD_FAILURES[failure]);
    return end;
  }

  /** Resets what a head records, at the first byte of its request line. */
  private startMessage(): void {
    this.headParts = null;
    this.headLength = 0;
    this.headerBlockStart = -1;
    this.fields = 0;
    this.hosts = 0;
    this.contentLength = -1;
    this.transferEncoding = false;
    this.chunkedLast = false;
    this.connectionClose = false;
    this.connectionKeepAlive = false;
    this.expectContinue = false;
    this.refererStart = -1;
    this.userAgentStart = -1;
  }

  private methodAt(buf: Buffer, base: number, end: number): string | null {
    if (this.headLength === 0) return methodName(buf, -base, end - base);
    const bytes = this.headBytes(buf, base, 0, end);
    return methodName(bytes, 0, bytes.length);
  }

  private targetAt(buf: Buffer, base: number, from: number, to: number): string {
    if (from >= this.headLength) return requestTarget(buf, from - base, to - base);
    return this.headBytes(buf, base, from, to).toString('latin1');
  }

  /**
   * A field name [from, to) is complete: note the fields the parser acts on, and refuse at once
   * the repeats and combinations no value could make valid. Returns a reason, or null.
   */
  private fieldNamed(buf: Buffer, base: number, from: number, to: number): string | null {
    this.field = F_OTHER;
    const length = to - from;
    if (length !== 4 && length !== 6 && length !== 7 && length !== 10 && length !== 14 && length !== 17) return null;
    // In this read's buffer, as usual, or joined from the earlier reads.
    const inBuf = from >= this.headLength;
    const name = inBuf ? buf : this.headBytes(buf, base, from, to);
    const n = inBuf ? from - base : 0;
    switch (length) {
      case 4:
        if (nameIs(name, n, 'host') && ++this.hosts > 1) return 'more than one Host header';
        break;
      case 6:
        if (this.minor === 1 && nameIs(name, n, 'expect')) this.field = F_EXPECT;
        break;
      case 7:
        if (this.refererStart === -1 && nameIs(name, n, 'referer')) this.field = F_REFERER;
        break;
      case 10:
        if (nameIs(name, n, 'connection')) this.field = F_CONNECTION;
        else if (this.userAgentStart === -1 && nameIs(name, n, 'user-agent')) this.field = F_USER_AGENT;
        break;
      case 14:
        if (nameIs(name, n, 'content-length')) {
          if (this.contentLength !== -1) return 'more than one Content-Length';
          if (this.transferEncoding) return 'both Content-Length and Transfer-Encoding';
          this.contentLength = 0;
          this.field = F_CONTENT_LENGTH;
        }
        break;
      case 17:
        if (nameIs(name, n, 'transfer-encoding')) {
          if (this.contentLength !== -1) return 'both Content-Length and Transfer-Encoding';
          if (this.minor === 0) return 'Transfer-Encoding in an HTTP/1.0 request';
          this.transferEncoding = true;
          this.field = F_TRANSFER_ENCODING;
        }
        break;
    }
    return null;
  }

  /** The value [from, to) of a field the parser acts on is complete. Returns 0 or a FIELD_ failure. */
  private fieldValue(buf: Buffer, base: number, from: number, to: number): number {
    const inBuf = from >= this.headLength;
    const bytes = inBuf ? buf : this.headBytes(buf, base, from, to);
    const shift = inBuf ? -base : -from; // index in bytes of an abs offset
    const start = from + shift;
    let stop = to + shift;
    while (stop > start && (bytes[stop - 1] === SP || bytes[stop - 1] === HTAB)) stop--;
    switch (this.field) {
      case F_REFERER:
        this.refererStart = from;
        this.refererEnd = stop - shift;
        break;
      case F_USER_AGENT:
        this.userAgentStart = from;
        this.userAgentEnd = stop - shift;
        break;
      case F_EXPECT:
        if (stop - start === 12 && nameIs(bytes, start, '100-continue')) this.expectContinue = true;
        else return FIELD_EXPECTATION;
        break;
      case F_CONNECTION:
        for (let s = start; s < stop; ) {
          let e = s;
          while (e < stop && bytes[e] !== COMMA) e++;
          let ts = s;
          let te = e;
          while (ts < te && (bytes[ts] === SP || bytes[ts] === HTAB)) ts++;
          while (te > ts && (bytes[te - 1] === SP || bytes[te - 1] === HTAB)) te--;
          if (te - ts === 5 && nameIs(bytes, ts, 'close')) this.connectionClose = true;
          else if (te - ts === 10 && nameIs(bytes, ts, 'keep-alive')) this.connectionKeepAlive = true;
          s = e + 1;
        }
        break;
      case F_TRANSFER_ENCODING:
        for (let s = start; s <= stop; ) {
          let e = s;
          while (e < stop && bytes[e] !== COMMA) e++;
          let ts = s;
          let te = e;
          while (ts < te && (bytes[ts] === SP || bytes[ts] === HTAB)) ts++;
          while (te > ts && (bytes[te - 1] === SP || bytes[te - 1] === HTAB)) te--;
          if (te === ts) return FIELD_EMPTY_CODING;
          // chunked appears once and last: a coding after it can never be made right.
          if (this.chunkedLast) return FIELD_NOT_CHUNKED_LAST;
          this.chunkedLast = te - ts === 7 && nameIs(bytes, ts, 'chunked');
          s = e + 1;
        }
        break;
    }
    return 0;
  }

  /** The empty line's LF is buf[headEnd - 1]: the head is whole. Checks what only its end can tell, then emits it. */
  private completeHead(buf: Buffer, base: number, headEnd: number): void {
    const minor = this.minor;
    if (minor === 1 && this.hosts === 0) return this.fail(400, 'missing Host header');
    if (this.transferEncoding && !this.chunkedLast) return this.fail(400, 'Transfer-Encoding does not end with chunked');
    const parts = this.headParts;
    const borrowed = parts === null;
    let bytes = buf;
    let shift = -base; // index in bytes of an abs offset
    if (!borrowed) {
      parts.push(buf.subarray(this.headLength - base, headEnd));
      bytes = Buffer.concat(parts, base + headEnd);
      shift = 0;
    }
    this.headParts = null;
    this.headLength = 0;
    const head = new RequestHead(this.method, this.target, minor, bytes, this.headerBlockStart + shift, this.markAt + shift, borrowed);
    if (this.refererStart !== -1) {
      head.refererStart = this.refererStart + shift;
      head.refererEnd = this.refererEnd + shift;
    }
    if (this.userAgentStart !== -1) {
      head.userAgentStart = this.userAgentStart + shift;
      head.userAgentEnd = this.userAgentEnd + shift;
    }
    const contentLength = this.contentLength;
    if (this.transferEncoding) head.bodyKind = BODY_CHUNKED;
    else if (contentLength > 0) {
      head.bodyKind = BODY_LENGTH;
      head.contentLength = contentLength;
    }
    head.expectContinue = this.expectContinue && head.bodyKind !== BODY_NONE;
    head.keepAlive = minor === 1 ? !this.connectionClose : this.connectionKeepAlive && !this.connectionClose;
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
          this.state = S_EXT_NAME_START;
          this.extensionLength = 0;
        } else this.fail(400, 'invalid chunk size');
        return p + 1;
      }
      case S_EXT_NAME_START:
      case S_EXT_NAME:
      case S_EXT_VALUE_START:
      case S_EXT_VALUE:
      case S_EXT_QUOTED:
      case S_EXT_ESCAPE:
      case S_EXT_AFTER_QUOTED:
        if (++this.extensionLength > MAX_CHUNK_EXTENSION) this.fail(400, 'chunk extension too long');
        else this.extensionByte(c);
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

  /** One byte of a chunk extension; a bare ';', a missing name or value, whitespace or a control byte: 400. */
  private extensionByte(c: number): void {
    switch (this.state) {
      case S_EXT_NAME_START:
        if (TOKEN[c] === 1) this.state = S_EXT_NAME;
        else this.fail(400, 'chunk extension without a name');
        return;
      case S_EXT_VALUE_START:
        if (TOKEN[c] === 1) this.state = S_EXT_VALUE;
        else if (c === DQUOTE) this.state = S_EXT_QUOTED;
        else this.fail(400, 'chunk extension without a value');
        return;
      case S_EXT_NAME:
      case S_EXT_VALUE:
      case S_EXT_AFTER_QUOTED:
        if (TOKEN[c] === 1 && this.state !== S_EXT_AFTER_QUOTED) return;
        if (c === CR) this.state = S_CHUNK_SIZE_LF;
        else if (c === SEMICOLON) this.state = S_EXT_NAME_START;
        else if (c === EQUALS && this.state === S_EXT_NAME) this.state = S_EXT_VALUE_START;
        else this.fail(400, 'invalid character in chunk extension');
        return;
      case S_EXT_QUOTED:
        // qdtext or a quoted-pair: HTAB, SP, VCHAR, obs-text.
        if (c === DQUOTE) this.state = S_EXT_AFTER_QUOTED;
        else if (c === BACKSLASH) this.state = S_EXT_ESCAPE;
        else if (FIELD_VALUE[c] === 0) this.fail(400, 'invalid character in chunk extension');
        return;
      case S_EXT_ESCAPE:
        if (FIELD_VALUE[c] === 1) this.state = S_EXT_QUOTED;
        else this.fail(400, 'invalid character in chunk extension');
        return;
    }
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
