// Incremental HTTP/1.x response parser for the load generator's hot path.
// It reads bytes straight out of the socket's receive buffer, one state per byte in the head and
// whole spans in the body, and never builds a string: header names and the tokens of the three
// headers that frame a response (Content-Length, Transfer-Encoding, Connection) are matched
// against pre-encoded bytes. Anything that is not a complete, well-formed response is reported as
// bad, so a request only counts as succeeded when its response was valid.

/** execute() results besides "the index just past the end of the response". */
export const NEED_MORE = -1;
export const BAD_RESPONSE = -2;

const S_START = 0;
const S_PROTO = 1;
const S_MAJOR = 2;
const S_DOT = 3;
const S_MINOR = 4;
const S_SP_BEFORE_STATUS = 5;
const S_STATUS = 6;
const S_AFTER_STATUS = 7;
const S_REASON = 8;
const S_STATUS_LF = 9;
const S_HEADER_START = 10;
const S_HEADER_NAME = 11;
const S_HEADER_VALUE = 12;
const S_HEADER_LF = 13;
const S_HEAD_END_LF = 14;
const S_BODY_LENGTH = 15;
const S_CHUNK_SIZE = 16;
const S_CHUNK_EXT = 17;
const S_CHUNK_SIZE_LF = 18;
const S_CHUNK_DATA = 19;
const S_CHUNK_DATA_CR = 20;
const S_CHUNK_DATA_LF = 21;
const S_TRAILER_START = 22;
const S_TRAILER_LINE = 23;
const S_TRAILER_LF = 24;
const S_TRAILER_END_LF = 25;
const S_BODY_UNTIL_CLOSE = 26;
const S_DONE = 27;
/** A parser that failed stays failed until reset. */
const S_BAD = 28;

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
const COLON = 58;
const COMMA = 44;

/** tchar from RFC 9110: the bytes allowed in a header name. */
const TOKEN = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TOKEN[c.charCodeAt(0)] = 1;
for (let c = 48; c <= 57; c++) TOKEN[c] = 1;
for (let c = 65; c <= 90; c++) TOKEN[c] = 1;
for (let c = 97; c <= 122; c++) TOKEN[c] = 1;

/** Header value bytes: visible ASCII, obs-text, space and tab; no other control characters. */
const VALUE = new Uint8Array(256);
for (let c = 32; c < 256; c++) VALUE[c] = c === 127 ? 0 : 1;
VALUE[HTAB] = 1;

const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

const HTTP_SLASH = Buffer.from('HTTP/');
const H_OTHER = 0;
const H_CONTENT_LENGTH = 1;
const H_TRANSFER_ENCODING = 2;
const H_CONNECTION = 3;
const FRAMING_HEADERS = [Buffer.from('content-length'), Buffer.from('transfer-encoding'), Buffer.from('connection')];
/** The shortest head wholeHead looks at: "HTTP/1.1 200\r\n\r\n". */
const MIN_HEAD = 16;
const TOKEN_CHUNKED = Buffer.from('chunked');
const TOKEN_CLOSE = Buffer.from('close');
const TOKEN_KEEP_ALIVE = Buffer.from('keep-alive');
/** Longest name or token worth remembering; anything longer cannot be one we look for. */
const SCRATCH = 20;
/** Content-Length digits plainValue takes (beyond, headerValueByte's overflow check decides). */
const MAX_PLAIN_LENGTH_DIGITS = 15;
/** A chunk size beyond 2^53 cannot be counted exactly; no real response sends one. */
const MAX_CHUNK_HEX_DIGITS = 13;

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

function sameBytes(scratch: Uint8Array, length: number, word: Buffer): boolean {
  if (length !== word.length) return false;
  for (let i = 0; i < length; i++) if (scratch[i] !== word[i]) return false;
  return true;
}

/** Which framing header, if any, is named by buf[at, at + length) (their lengths differ: one compare). */
function framingHeaderAt(buf: Uint8Array, at: number, length: number): number {
  for (let h = 0; h < FRAMING_HEADERS.length; h++) {
    const name = FRAMING_HEADERS[h];
    if (name.length !== length) continue;
    for (let k = 0; k < length; k++) if (lower(buf[at + k]) !== name[k]) return H_OTHER;
    return h + 1;
  }
  return H_OTHER;
}

export class ResponseParser {
  /** Status code of the response being parsed (of the last one, once complete). */
  statusCode = 0;
  /** Whether the connection may carry another request after this response. */
  keepAlive = false;
  /** True once any byte of the current response has arrived. */
  started = false;

  private state = S_START;
  private headRequest = false;
  private expectHttp09 = false;
  private index = 0;
  private minor = 0;
  private header = H_OTHER;
  private readonly scratch = new Uint8Array(SCRATCH);
  private scratchLength = 0;
  private contentLength = -1;
  private headerLength = -1;
  private lengthEnded = false;
  private chunked = false;
  private hasTransferEncoding = false;
  private closeToken = false;
  private keepAliveToken = false;
  private remaining = 0;
  private hexDigits = 0;

  /**
   * Prepares for the response to the next request. A HEAD request's response has no body;
   * an HTTP/0.9 request's response is the raw body up to the close.
   */
  reset(headRequest: boolean, http09: boolean): void {
    this.headRequest = headRequest;
    this.expectHttp09 = http09;
    this.statusCode = 0;
    this.keepAlive = false;
    this.started = false;
    this.state = http09 ? S_BODY_UNTIL_CLOSE : S_START;
    this.beginHead();
  }

  private beginHead(): void {
    this.index = 0;
    this.contentLength = -1;
    this.chunked = false;
    this.hasTransferEncoding = false;
    this.closeToken = false;
    this.keepAliveToken = false;
  }

  /**
   * Consumes buf[start, end). Returns the index just past the response when it completed,
   * NEED_MORE when every byte was consumed and the response is not complete, or BAD_RESPONSE.
   */
  execute(buf: Uint8Array, start: number, end: number): number {
    if (start < end) this.started = true;
    let i = start;
    let state = this.state;
    if (state === S_START) {
      const afterHead = this.wholeHead(buf, start, end);
      if (afterHead >= 0) {
        state = this.endOfHead();
        if (state === S_BAD) return this.fail();
        if (state === S_DONE) return this.complete(afterHead);
        i = afterHead;
      }
    }
    while (i < end) {
      const c = buf[i];
      switch (state) {
        case S_START:
          if (c !== HTTP_SLASH[0]) return this.fail();
          this.index = 1;
          state = S_PROTO;
          break;
        case S_PROTO:
          if (c !== HTTP_SLASH[this.index]) return this.fail();
          if (++this.index === HTTP_SLASH.length) state = S_MAJOR;
          break;
        case S_MAJOR:
          if (c !== 49) return this.fail(); // only HTTP/1.x
          state = S_DOT;
          break;
        case S_DOT:
          if (c !== 46) return this.fail();
          state = S_MINOR;
          break;
        case S_MINOR:
          if (c < 48 || c > 57) return this.fail();
          this.minor = c - 48;
          state = S_SP_BEFORE_STATUS;
          break;
        case S_SP_BEFORE_STATUS:
          if (c !== SP) return this.fail();
          this.statusCode = 0;
          this.index = 0;
          state = S_STATUS;
          break;
        case S_STATUS:
          if (c < 48 || c > 57) return this.fail();
          this.statusCode = this.statusCode * 10 + (c - 48);
          if (++this.index === 3) state = S_AFTER_STATUS;
          break;
        case S_AFTER_STATUS:
          if (c === SP) state = S_REASON;
          else if (c === CR) state = S_STATUS_LF;
          else return this.fail();
          break;
        case S_REASON: {
          // The whole span up to CR in one tight loop: the head's text is most of its bytes.
          let j = i;
          while (j < end && VALUE[buf[j]] === 1) j++;
          i = j;
          if (j === end) continue;
          if (buf[j] !== CR) return this.fail();
          state = S_STATUS_LF;
          break;
        }
        case S_STATUS_LF:
        case S_HEADER_LF:
          if (c !== LF) return this.fail();
          state = S_HEADER_START;
          break;
        case S_HEADER_START:
          if (c === CR) {
            state = S_HEAD_END_LF;
          } else if (TOKEN[c] === 1) {
            this.scratch[0] = lower(c);
            this.scratchLength = 1;
            state = S_HEADER_NAME;
          } else {
            return this.fail(); // includes obs-fold (a line starting with SP/HTAB)
          }
          break;
        case S_HEADER_NAME: {
          let j = i;
          let n = this.scratchLength;
          const scratch = this.scratch;
          for (let t = buf[j]; TOKEN[t] === 1; t = buf[j]) {
            if (n < SCRATCH) scratch[n] = lower(t);
            n++;
            if (++j === end) break;
          }
          this.scratchLength = n;
          i = j;
          if (j === end) continue;
          if (buf[j] !== COLON) return this.fail();
          this.header = this.identifyHeader();
          this.scratchLength = 0;
          this.headerLength = -1;
          this.lengthEnded = false;
          state = S_HEADER_VALUE;
          break;
        }
        case S_HEADER_VALUE:
          if (this.header === H_OTHER) {
            // A value nobody reads: skip the span up to CR in one tight loop.
            let j = i;
            while (j < end && VALUE[buf[j]] === 1) j++;
            i = j;
            if (j === end) continue;
            if (buf[j] !== CR) return this.fail();
            state = S_HEADER_LF;
            break;
          }
          if (c === CR) {
            if (!this.endHeaderValue()) return this.fail();
            state = S_HEADER_LF;
          } else if (VALUE[c] === 0) {
            return this.fail();
          } else if (this.header !== H_OTHER && !this.headerValueByte(c)) {
            return this.fail();
          }
          break;
        case S_HEAD_END_LF:
          if (c !== LF) return this.fail();
          state = this.endOfHead();
          if (state === S_BAD) return this.fail();
          if (state === S_DONE) return this.complete(i + 1);
          break;
        case S_BODY_LENGTH: {
          const take = Math.min(this.remaining, end - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) return this.complete(i);
          continue;
        }
        case S_CHUNK_SIZE: {
          const digit = HEX[c];
          if (digit >= 0) {
            if (++this.hexDigits > MAX_CHUNK_HEX_DIGITS) return this.fail();
            this.remaining = this.remaining * 16 + digit;
          } else if (this.hexDigits === 0) {
            return this.fail();
          } else if (c === CR) {
            state = S_CHUNK_SIZE_LF;
          } else if (c === 59 /* ; */ || c === SP || c === HTAB) {
            state = S_CHUNK_EXT;
          } else {
            return this.fail();
          }
          break;
        }
        case S_CHUNK_EXT:
          if (c === CR) state = S_CHUNK_SIZE_LF;
          else if (VALUE[c] === 0) return this.fail();
          break;
        case S_CHUNK_SIZE_LF:
          if (c !== LF) return this.fail();
          state = this.remaining === 0 ? S_TRAILER_START : S_CHUNK_DATA;
          break;
        case S_CHUNK_DATA: {
          const take = Math.min(this.remaining, end - i);
          this.remaining -= take;
          i += take;
          if (this.remaining === 0) state = S_CHUNK_DATA_CR;
          continue;
        }
        case S_CHUNK_DATA_CR:
          if (c !== CR) return this.fail();
          state = S_CHUNK_DATA_LF;
          break;
        case S_CHUNK_DATA_LF:
          if (c !== LF) return this.fail();
          this.hexDigits = 0;
          state = S_CHUNK_SIZE;
          break;
        case S_TRAILER_START:
          if (c === CR) state = S_TRAILER_END_LF;
          else if (TOKEN[c] === 1) state = S_TRAILER_LINE;
          else return this.fail();
          break;
        case S_TRAILER_LINE:
          if (c === CR) state = S_TRAILER_LF;
          else if (VALUE[c] === 0) return this.fail();
          break;
        case S_TRAILER_LF:
          if (c !== LF) return this.fail();
          state = S_TRAILER_START;
          break;
        case S_TRAILER_END_LF:
          if (c !== LF) return this.fail();
          return this.complete(i + 1);
        case S_BODY_UNTIL_CLOSE:
          this.state = state;
          return NEED_MORE; // the rest of the stream is body
        default:
          return this.fail();
      }
      i++;
    }
    this.state = state;
    return NEED_MORE;
  }

  /**
   * The usual case, a whole head in one read, scanned line by line in locals: header names are
   * compared in place with the framing headers' (framingHeaderAt), other values are skipped in one
   * loop, and the framing headers' values go through the same checks as below. Returns the
   * index just past the head, or -1 to leave the response to the byte-at-a-time machine: the head
   * is split across reads, or something in it is out of the ordinary (that machine gives the verdict).
   */
  private wholeHead(buf: Uint8Array, start: number, end: number): number {
    let i = start;
    if (end - i < MIN_HEAD) return -1;
    for (let k = 0; k < HTTP_SLASH.length; k++) if (buf[i + k] !== HTTP_SLASH[k]) return -1;
    i += HTTP_SLASH.length;
    const minor = buf[i + 2] - 48;
    const d0 = buf[i + 4] - 48;
    const d1 = buf[i + 5] - 48;
    const d2 = buf[i + 6] - 48;
    if (buf[i] !== 49 || buf[i + 1] !== 46 || buf[i + 3] !== SP || !(minor >= 0 && minor <= 9 && d0 >= 0 && d0 <= 9 && d1 >= 0 && d1 <= 9 && d2 >= 0 && d2 <= 9)) return -1;
    i += 7;
    if (buf[i] === SP) {
      i++;
      while (i < end && VALUE[buf[i]] === 1) i++;
    }
    if (i + 1 >= end || buf[i] !== CR || buf[i + 1] !== LF) return -1;
    i += 2;
    this.minor = minor;
    this.statusCode = d0 * 100 + d1 * 10 + d2;
    for (;;) {
      if (i + 1 >= end) return this.abandonHead();
      if (buf[i] === CR) return buf[i + 1] === LF ? i + 2 : this.abandonHead();
      const nameAt = i;
      while (i < end && TOKEN[buf[i]] === 1) i++;
      const nameLength = i - nameAt;
      if (nameLength === 0 || i >= end || buf[i] !== COLON) return this.abandonHead();
      const valueAt = ++i;
      while (i < end && VALUE[buf[i]] === 1) i++;
      if (i + 1 >= end || buf[i] !== CR || buf[i + 1] !== LF) return this.abandonHead();
      const header = framingHeaderAt(buf, nameAt, nameLength);
      if (header !== H_OTHER) {
        this.header = header;
        this.headerLength = -1;
        this.lengthEnded = false;
        if (!this.plainValue(buf, valueAt, i)) {
          for (let k = valueAt; k < i; k++) if (!this.headerValueByte(buf[k])) return this.abandonHead();
        }
        if (!this.endHeaderValue()) return this.abandonHead();
      }
      i += 2;
    }
  }

  /**
   * A framing header's value in its plain shape, taken in one go: digits for Content-Length, one
   * token for the others, with optional whitespace around. False (nothing taken) for any other
   * shape, which then goes byte by byte through headerValueByte.
   */
  private plainValue(buf: Uint8Array, from: number, to: number): boolean {
    while (from < to && (buf[from] === SP || buf[from] === HTAB)) from++;
    while (to > from && (buf[to - 1] === SP || buf[to - 1] === HTAB)) to--;
    const length = to - from;
    if (length === 0) return false;
    if (this.header === H_CONTENT_LENGTH) {
      if (length > MAX_PLAIN_LENGTH_DIGITS) return false;
      let value = 0;
      for (let k = from; k < to; k++) {
        const digit = buf[k] - 48;
        if (digit < 0 || digit > 9) return false;
        value = value * 10 + digit;
      }
      this.headerLength = value;
      return true;
    }
    if (length > SCRATCH) return false;
    const scratch = this.scratch;
    for (let k = from; k < to; k++) {
      const c = buf[k];
      if (c === COMMA || c === SP || c === HTAB) return false;
      scratch[k - from] = lower(c);
    }
    this.scratchLength = length;
    return true;
  }

  /** Undoes what wholeHead found so the byte-at-a-time machine starts the head afresh. */
  private abandonHead(): number {
    this.beginHead();
    return -1;
  }

  /** The head's last LF: how the body is framed, and a fresh head after an interim 1xx response. */
  private endOfHead(): number {
    const next = this.afterHead();
    if (next === S_START) this.beginHead(); // an interim 1xx response: the real one follows
    return next;
  }

  /** The peer closed the stream: true when that ends the response (a close-delimited body). */
  finishAtEof(): boolean {
    if (this.state !== S_BODY_UNTIL_CLOSE) return false;
    // An HTTP/0.9 reply is the bytes up to the close; there must have been some.
    if (this.expectHttp09 && !this.started) return false;
    this.state = S_DONE;
    this.keepAlive = false;
    return true;
  }

  private identifyHeader(): number {
    for (let h = 0; h < FRAMING_HEADERS.length; h++) {
      if (sameBytes(this.scratch, this.scratchLength, FRAMING_HEADERS[h])) return h + 1;
    }
    return H_OTHER;
  }

  /** One byte of a framing header's value; false when the value is malformed. */
  private headerValueByte(c: number): boolean {
    if (this.header === H_CONTENT_LENGTH) {
      if (c >= 48 && c <= 57) {
        if (this.lengthEnded) return false; // "12 34"
        this.headerLength = (this.headerLength < 0 ? 0 : this.headerLength) * 10 + (c - 48);
        return this.headerLength <= Number.MAX_SAFE_INTEGER;
      }
      if (c === SP || c === HTAB) {
        if (this.headerLength >= 0) this.lengthEnded = true;
        return true;
      }
      return false; // a list ("5, 5") or a sign: refused, as strict parsers do
    }
    // Transfer-Encoding and Connection are comma-separated token lists.
    if (c === COMMA) {
      this.endToken();
    } else if (c !== SP && c !== HTAB) {
      if (this.scratchLength < SCRATCH) this.scratch[this.scratchLength] = lower(c);
      this.scratchLength++;
    }
    return true;
  }

  private endHeaderValue(): boolean {
    if (this.header === H_CONTENT_LENGTH) {
      const value = this.headerLength;
      if (value < 0) return false;
      if (this.contentLength >= 0 && this.contentLength !== value) return false; // differing lengths
      this.contentLength = value;
    } else if (this.header !== H_OTHER) {
      this.endToken();
    }
    this.header = H_OTHER;
    return true;
  }

  private endToken(): void {
    const n = this.scratchLength;
    if (n === 0) return;
    if (this.header === H_TRANSFER_ENCODING) {
      this.hasTransferEncoding = true;
      this.chunked = sameBytes(this.scratch, n, TOKEN_CHUNKED); // the last coding decides
    } else if (sameBytes(this.scratch, n, TOKEN_CLOSE)) {
      this.closeToken = true;
    } else if (sameBytes(this.scratch, n, TOKEN_KEEP_ALIVE)) {
      this.keepAliveToken = true;
    }
    this.scratchLength = 0;
  }

  /** Decides how the body is framed once the head is complete (RFC 9112 section 6.3). */
  private afterHead(): number {
    const status = this.statusCode;
    if (status < 100) return S_BAD;
    if (status < 200 && status !== 101) return S_START;
    this.keepAlive = !this.closeToken && (this.minor >= 1 || this.keepAliveToken);
    if (this.headRequest || status === 204 || status === 304 || status === 101) return S_DONE;
    if (this.hasTransferEncoding) {
      if (this.chunked) {
        this.remaining = 0;
        this.hexDigits = 0;
        return S_CHUNK_SIZE;
      }
      this.keepAlive = false;
      return S_BODY_UNTIL_CLOSE;
    }
    if (this.contentLength >= 0) {
      if (this.contentLength === 0) return S_DONE;
      this.remaining = this.contentLength;
      return S_BODY_LENGTH;
    }
    this.keepAlive = false;
    return S_BODY_UNTIL_CLOSE;
  }

  private complete(next: number): number {
    this.state = S_DONE;
    return next;
  }

  private fail(): number {
    this.state = S_BAD;
    return BAD_RESPONSE;
  }
}
