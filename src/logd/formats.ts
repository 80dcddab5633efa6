// Access-log line formats. A format writes a record's line straight into the log client's buffer
// (no string per line, no regular expression, no flattening of a concatenation: this runs once per
// request in every worker). Lines are printable ASCII only and carry no newline, so no line can
// break the L<text>\n framing.
import type { AccessLogFormat } from '../config.ts';
import type { AccessRecord } from './access_record.ts';

export interface AccessLineFormat {
  /** An upper bound of the bytes write() puts down for this record. */
  maxBytes(record: AccessRecord): number;
  /** Writes the line (no newline) at buf[pos]; returns the offset just past it. */
  write(record: AccessRecord, buf: Buffer, pos: number): number;
}

export function formatFor(format: AccessLogFormat): AccessLineFormat {
  return format === 'json' ? JSON_FORMAT : format === 'combined_id' ? COMBINED_ID : COMBINED;
}

// A protocol line holds at most 65535 bytes (squid's fgets buffer). Each free-form field has a
// byte budget for its escaped form, and the budgets with the fixed parts stay below that:
// 16384 + 4 × 8192 + FIXED_BYTES. nginx itself refuses request lines above 8 KiB by default.
const URL_BUDGET = 16384;
const FIELD_BUDGET = 8192;
const VERSION_BUDGET = 16;
/** Brackets, quotes, spaces, $time_local, status and byte count. */
const FIXED_BYTES = 128;
/** The most bytes one UTF-16 unit can become: a BMP character beyond U+07FF is 3 UTF-8 bytes, \xHH each. */
const MAX_BYTES_PER_UNIT = 12;

function budgeted(value: string | undefined, budget: number): number {
  return value === undefined ? 1 : Math.min(budget, value.length * MAX_BYTES_PER_UNIT);
}

/**
 * nginx's `combined`:
 * `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
 * with nginx's escaping of variables (ngx_http_log_escape): `"`, `\`, bytes below 0x20 and from 0x7f
 * become \xHH (uppercase hex); a missing header is `-`.
 */
const COMBINED: AccessLineFormat = {
  maxBytes(r) {
    return (
      FIXED_BYTES + budgeted(r.remote, FIELD_BUDGET) + budgeted(r.method, FIELD_BUDGET) + budgeted(r.url, URL_BUDGET) +
      budgeted(r.httpVersion, VERSION_BUDGET) + budgeted(r.referer, FIELD_BUDGET) + budgeted(r.userAgent, FIELD_BUDGET)
    );
  },
  write(r, buf, pos) {
    const remoteStart = pos;
    pos = putEscaped(buf, pos, r.remote, FIELD_BUDGET);
    if (pos === remoteStart) buf[pos++] = DASH;
    const block = timeBlock(r.time);
    buf.set(block, pos);
    pos += block.length;
    pos = putEscaped(buf, pos, r.method, FIELD_BUDGET);
    buf[pos++] = SPACE;
    pos = putEscaped(buf, pos, r.url, URL_BUDGET);
    pos = putAscii(buf, pos, ' HTTP/');
    pos = putEscaped(buf, pos, r.httpVersion, VERSION_BUDGET);
    buf[pos++] = QUOTE;
    buf[pos++] = SPACE;
    pos = putInteger(buf, pos, r.status);
    buf[pos++] = SPACE;
    pos = putInteger(buf, pos, r.bytes);
    buf[pos++] = SPACE;
    pos = putQuotedOrDash(buf, pos, r.referer);
    buf[pos++] = SPACE;
    return putQuotedOrDash(buf, pos, r.userAgent);
  },
};

/**
 * `combined_id`: combined, then ` "$request_id"` (`"-"` without one). A parser of combined reads its
 * fields from the left and stops after the user agent, so it keeps working on these lines.
 */
const COMBINED_ID: AccessLineFormat = {
  maxBytes(r) {
    return COMBINED.maxBytes(r) + 3 + budgeted(r.requestId, FIELD_BUDGET);
  },
  write(r, buf, pos) {
    pos = COMBINED.write(r, buf, pos);
    buf[pos++] = SPACE;
    return putQuotedOrDash(buf, pos, r.requestId);
  },
};

// json cuts characters before escaping, which makes one at most 6 bytes: (4096 + 5 × 1024 + 16) × 6 plus the keys stays below 65535.
const JSON_URL_CHARS = 4096;
const JSON_FIELD_CHARS = 1024;

/** One JSON object per line; non-ASCII characters are \u-escaped (still valid JSON). Not the hot format: a string per line. */
const JSON_FORMAT: AccessLineFormat = {
  maxBytes(r) {
    // JSON.stringify and the \u escape make a UTF-16 unit at most 6 bytes; 256 holds the keys and numbers.
    const chars =
      Math.min(r.remote.length, JSON_FIELD_CHARS) + Math.min(r.method.length, JSON_FIELD_CHARS) + Math.min(r.url.length, JSON_URL_CHARS) +
      Math.min(r.httpVersion.length, VERSION_BUDGET) + Math.min(r.referer?.length ?? 0, JSON_FIELD_CHARS) + Math.min(r.userAgent?.length ?? 0, JSON_FIELD_CHARS) +
      (r.requestId?.length ?? 0);
    return 256 + 6 * chars;
  },
  write(r, buf, pos) {
    return pos + buf.write(jsonLine(r), pos, 'latin1');
  },
};

function jsonLine(r: AccessRecord): string {
  const line = JSON.stringify({
    time: new Date(r.time).toISOString(),
    remote: cut(r.remote, JSON_FIELD_CHARS),
    method: cut(r.method, JSON_FIELD_CHARS),
    url: cut(r.url, JSON_URL_CHARS),
    httpVersion: cut(r.httpVersion, VERSION_BUDGET),
    status: r.status,
    bytes: r.bytes,
    referer: r.referer === undefined ? null : cut(r.referer, JSON_FIELD_CHARS),
    userAgent: r.userAgent === undefined ? null : cut(r.userAgent, JSON_FIELD_CHARS),
    durationMs: Math.round(r.durationMs * 1000) / 1000,
    requestId: r.requestId,
  });
  return NON_ASCII.test(line) ? line.replace(NON_ASCII_ALL, escapeUnicode) : line;
}

const NON_ASCII = /[^\x20-\x7e]/;
const NON_ASCII_ALL = /[^\x20-\x7e]/g;

function escapeUnicode(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function cut(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

/** A line as a string, for tests and tools; the client writes lines into its buffer instead. */
export function formatLine(format: AccessLogFormat, record: AccessRecord): string {
  const f = formatFor(format);
  const buf = Buffer.allocUnsafe(f.maxBytes(record));
  return buf.toString('latin1', 0, f.write(record, buf, 0));
}

export const formatCombined = (record: AccessRecord): string => formatLine('combined', record);
export const formatJson = (record: AccessRecord): string => formatLine('json', record);

const SPACE = 0x20;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const DASH = 0x2d;
const HEX = '0123456789ABCDEF';

/** For the format's own constant, ASCII pieces. */
function putAscii(buf: Buffer, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) buf[pos++] = text.charCodeAt(i);
  return pos;
}

function putQuotedOrDash(buf: Buffer, pos: number, value: string | undefined): number {
  buf[pos++] = QUOTE;
  if (value === undefined) buf[pos++] = DASH;
  else pos = putEscaped(buf, pos, value, FIELD_BUDGET);
  buf[pos++] = QUOTE;
  return pos;
}

function putInteger(buf: Buffer, pos: number, n: number): number {
  if (!(n >= 0 && n <= Number.MAX_SAFE_INTEGER)) return putAscii(buf, pos, '0');
  // Below 2^31 the digits come from integer arithmetic, which the JIT keeps out of floating point.
  const small = n < 0x80000000;
  n = small ? n | 0 : Math.floor(n);
  let digits = 1;
  for (let t = n; t >= 10; t = small ? (t / 10) | 0 : Math.floor(t / 10)) digits++;
  for (let k = pos + digits - 1; k >= pos; k--) {
    const rest = small ? (n / 10) | 0 : Math.floor(n / 10);
    buf[k] = 0x30 + (n - rest * 10);
    n = rest;
  }
  return pos + digits;
}

/**
 * Header values and URLs reach us as latin1 strings (one char per byte); a char above 0xff (a
 * string built by an app) is escaped as its UTF-8 bytes, as nginx would log them. A field stops at
 * its budget, never in the middle of an escape.
 */
function putEscaped(buf: Buffer, pos: number, value: string, budget: number): number {
  const stop = pos + budget;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== QUOTE && c !== BACKSLASH) {
      if (pos >= stop) break;
      buf[pos++] = c;
    } else if (c <= 0xff) {
      if (pos + 4 > stop) break;
      pos = putHexByte(buf, pos, c);
    } else {
      let code = c;
      // A surrogate pair is one character; a lone surrogate is U+FFFD, as Buffer.from(…, 'utf8') has it.
      if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length) {
        const low = value.charCodeAt(i + 1);
        if (low >= 0xdc00 && low <= 0xdfff) code = 0x10000 + ((c - 0xd800) << 10) + (low - 0xdc00);
      }
      if (code === c && c >= 0xd800 && c <= 0xdfff) code = 0xfffd;
      const length = code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
      if (pos + 4 * length > stop) break;
      if (code > 0xffff) i++;
      if (length === 2) {
        pos = putHexByte(buf, pos, 0xc0 | (code >> 6));
      } else if (length === 3) {
        pos = putHexByte(buf, pos, 0xe0 | (code >> 12));
        pos = putHexByte(buf, pos, 0x80 | ((code >> 6) & 0x3f));
      } else {
        pos = putHexByte(buf, pos, 0xf0 | (code >> 18));
        pos = putHexByte(buf, pos, 0x80 | ((code >> 12) & 0x3f));
        pos = putHexByte(buf, pos, 0x80 | ((code >> 6) & 0x3f));
      }
      pos = putHexByte(buf, pos, 0x80 | (code & 0x3f));
    }
  }
  return pos;
}

function putHexByte(buf: Buffer, pos: number, byte: number): number {
  buf[pos] = BACKSLASH;
  buf[pos + 1] = 0x78; // x
  buf[pos + 2] = HEX.charCodeAt(byte >> 4);
  buf[pos + 3] = HEX.charCodeAt(byte & 0xf);
  return pos + 4;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// $time_local changes once a second; the string, and the bytes around it in a combined line, are
// built once per second, not per line.
let cachedSecond = -1;
let cachedTimeLocal = '';
let blockSecond = -1;
let cachedBlock = Buffer.alloc(0);

/** nginx's $time_local: `10/Oct/2000:13:55:36 -0700`, local time with its UTC offset. */
export function timeLocal(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === cachedSecond) return cachedTimeLocal;
  const d = new Date(second * 1000);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  cachedTimeLocal =
    `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ` +
    `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  cachedSecond = second;
  return cachedTimeLocal;
}

/** What a combined line holds between $remote_addr and $request: ` - - [$time_local] "`, as bytes. */
function timeBlock(ms: number): Buffer {
  const second = Math.floor(ms / 1000);
  if (second !== blockSecond) {
    cachedBlock = Buffer.from(` - - [${timeLocal(ms)}] "`, 'latin1');
    blockSecond = second;
  }
  return cachedBlock;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
