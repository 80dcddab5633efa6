// The HTTP/2 wire format the load generator needs (RFC 9113 frames, RFC 7541 HPACK), written for
// a client that pre-encodes its one request and only has to read a response's status:
// - the request's header block is encoded once, before the run, as literals that never touch the
//   dynamic table (so the block is the same bytes on every stream of every connection);
// - the client's SETTINGS set the server's HPACK dynamic table to 0 bytes, so a response's header
//   block can be read without keeping any table: an index past the static table is an error;
// - of a response's header block only the first field is read; RFC 9113 puts the pseudo-header
//   :status before every other field. Its value is three digits, plain or Huffman-coded (digits
//   only, which is all a status can hold).

export const FRAME_HEADER_BYTES = 9;
/** The largest frame payload a peer may send before it is told otherwise; the client never raises it. */
export const MAX_FRAME_PAYLOAD = 16_384;
/** Largest flow-control window (2^31 - 1), and the default one (RFC 9113 section 6.9.2). */
export const MAX_WINDOW = 0x7fff_ffff;
export const DEFAULT_WINDOW = 65_535;
/** Client stream ids are odd and below 2^31. */
export const MAX_STREAM_ID = 0x7fff_ffff;

export const FRAME_DATA = 0x0;
export const FRAME_HEADERS = 0x1;
export const FRAME_RST_STREAM = 0x3;
export const FRAME_SETTINGS = 0x4;
export const FRAME_PUSH_PROMISE = 0x5;
export const FRAME_PING = 0x6;
export const FRAME_GOAWAY = 0x7;
export const FRAME_WINDOW_UPDATE = 0x8;
export const FRAME_CONTINUATION = 0x9;

export const FLAG_ACK = 0x1;
export const FLAG_END_STREAM = 0x1;
export const FLAG_END_HEADERS = 0x4;
export const FLAG_PADDED = 0x8;
export const FLAG_PRIORITY = 0x20;

export const SETTINGS_HEADER_TABLE_SIZE = 0x1;
export const SETTINGS_ENABLE_PUSH = 0x2;
export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;

/** Writes a frame header at `at`; returns the index after it. */
export function writeFrameHeader(buf: Uint8Array, at: number, length: number, type: number, flags: number, streamId: number): number {
  buf[at] = length >>> 16;
  buf[at + 1] = (length >>> 8) & 0xff;
  buf[at + 2] = length & 0xff;
  buf[at + 3] = type;
  buf[at + 4] = flags;
  writeUint31(buf, at + 5, streamId);
  return at + FRAME_HEADER_BYTES;
}

export function writeUint31(buf: Uint8Array, at: number, value: number): void {
  buf[at] = (value >>> 24) & 0x7f;
  buf[at + 1] = (value >>> 16) & 0xff;
  buf[at + 2] = (value >>> 8) & 0xff;
  buf[at + 3] = value & 0xff;
}

export function readUint31(buf: Uint8Array, at: number): number {
  return ((buf[at] & 0x7f) * 0x100_0000) + (buf[at + 1] << 16) + (buf[at + 2] << 8) + buf[at + 3];
}

export function readUint32(buf: Uint8Array, at: number): number {
  return (buf[at] * 0x100_0000) + (buf[at + 1] << 16) + (buf[at + 2] << 8) + buf[at + 3];
}

/**
 * What a client writes first on a connection: the preface, its SETTINGS (no push, no HPACK
 * dynamic table, the largest stream window) and a WINDOW_UPDATE that opens the connection's
 * window as far, so the server never waits for the client's flow control.
 */
export function clientPreface(): Buffer {
  const magic = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
  const settings = [[SETTINGS_HEADER_TABLE_SIZE, 0], [SETTINGS_ENABLE_PUSH, 0], [SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW]];
  const out = Buffer.alloc(magic.length + FRAME_HEADER_BYTES + settings.length * 6 + FRAME_HEADER_BYTES + 4);
  magic.copy(out, 0);
  let at = writeFrameHeader(out, magic.length, settings.length * 6, FRAME_SETTINGS, 0, 0);
  for (const [id, value] of settings) {
    out.writeUInt16BE(id, at);
    out.writeUInt32BE(value, at + 2);
    at += 6;
  }
  at = writeFrameHeader(out, at, 4, FRAME_WINDOW_UPDATE, 0, 0);
  writeUint31(out, at, MAX_WINDOW - DEFAULT_WINDOW);
  return out;
}

/** RFC 7541 Appendix A: index i + 1 is STATIC_TABLE[i]. */
const STATIC_TABLE: ReadonlyArray<readonly [string, string]> = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''],
  ['etag', ''], ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''],
  ['if-modified-since', ''], ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''],
  ['last-modified', ''], ['link', ''], ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''],
  ['proxy-authorization', ''], ['range', ''], ['referer', ''], ['refresh', ''], ['retry-after', ''],
  ['server', ''], ['set-cookie', ''], ['strict-transport-security', ''], ['transfer-encoding', ''],
  ['user-agent', ''], ['vary', ''], ['via', ''], ['www-authenticate', ''],
];
const STATIC_ENTRIES = STATIC_TABLE.length;
/** Static indexes 8..14 are :status with these values. */
const STATIC_STATUS_FIRST = 8;
const STATIC_STATUS = [200, 204, 206, 304, 400, 404, 500];

/** An HPACK integer with an N-bit prefix (the prefix's other bits in `high`). */
function encodeInteger(out: number[], value: number, prefixBits: number, high: number): void {
  const max = (1 << prefixBits) - 1;
  if (value < max) {
    out.push(high | value);
    return;
  }
  out.push(high | max);
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
}

function encodeString(out: number[], text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  encodeInteger(out, bytes.length, 7, 0); // not Huffman-coded
  for (const b of bytes) out.push(b);
}

/**
 * The request's header block: a static-table index where name and value both match, otherwise a
 * literal field "without indexing" (so no dynamic table state is created on either side), with
 * the name by static index when it has one. Names must already be lower case.
 */
export function encodeHeaderBlock(headers: ReadonlyArray<readonly [string, string]>): Buffer {
  const out: number[] = [];
  for (const [name, value] of headers) {
    const full = STATIC_TABLE.findIndex(([n, v]) => n === name && v === value);
    if (full >= 0) {
      encodeInteger(out, full + 1, 7, 0x80);
      continue;
    }
    const named = STATIC_TABLE.findIndex(([n]) => n === name);
    if (named >= 0) {
      encodeInteger(out, named + 1, 4, 0x00);
    } else {
      out.push(0x00);
      encodeString(out, name);
    }
    encodeString(out, value);
  }
  return Buffer.from(out);
}

/** An HPACK integer read at buf[at] with an N-bit prefix: value and next index, or -1 when cut short. */
let integerEnd = 0;
function decodeInteger(buf: Uint8Array, at: number, end: number, prefixBits: number): number {
  const max = (1 << prefixBits) - 1;
  let value = buf[at] & max;
  at++;
  if (value === max) {
    let shift = 1;
    for (;;) {
      if (at >= end || shift > 2 ** 28) return -1;
      const b = buf[at++];
      value += (b & 0x7f) * shift;
      shift *= 128;
      if ((b & 0x80) === 0) break;
    }
  }
  integerEnd = at;
  return value;
}

/** Huffman codes of the ten digits (RFC 7541 Appendix B): '0'-'2' 5 bits, '3'-'9' 6 bits. */
function huffmanDigits(buf: Uint8Array, at: number, length: number): number {
  let bits = 0;
  let count = 0;
  let value = 0;
  let digits = 0;
  let i = at;
  const end = at + length;
  for (;;) {
    while (count < 6 && i < end) {
      bits = (bits << 8) | buf[i++];
      count += 8;
    }
    if (count < 5) break;
    const five = (bits >>> (count - 5)) & 0x1f;
    let digit: number;
    if (five <= 2) {
      digit = five;
      count -= 5;
    } else {
      if (count < 6) break;
      const six = (bits >>> (count - 6)) & 0x3f;
      if (six < 0x19 || six > 0x1f) break;
      digit = six - 0x19 + 3;
      count -= 6;
    }
    value = value * 10 + digit;
    if (++digits > 3) return -1;
    bits &= (1 << count) - 1;
  }
  // What is left must be EOS padding: fewer than 8 bits, all ones, and no bytes unread.
  if (i !== end || count >= 8 || bits !== (1 << count) - 1) return -1;
  return digits === 3 ? value : -1;
}

/**
 * The :status of a response header block fragment, or -1 when the block does not start with a
 * valid :status (or refers to a dynamic table, which this client set to 0 bytes).
 */
export function decodeStatus(buf: Uint8Array, start: number, end: number): number {
  let at = start;
  while (at < end) {
    const first = buf[at];
    if ((first & 0xe0) === 0x20) {
      // Dynamic table size update: only down to 0 is allowed with the client's SETTINGS.
      if (decodeInteger(buf, at, end, 5) !== 0) return -1;
      at = integerEnd;
      continue;
    }
    if ((first & 0x80) !== 0) {
      const index = decodeInteger(buf, at, end, 7);
      const status = index - STATIC_STATUS_FIRST;
      return status >= 0 && status < STATIC_STATUS.length ? STATIC_STATUS[status] : -1;
    }
    // A literal: 6-bit name index with incremental indexing, 4-bit without or never indexed.
    const nameIndex = decodeInteger(buf, at, end, (first & 0x40) !== 0 ? 6 : 4);
    if (nameIndex < STATIC_STATUS_FIRST || nameIndex >= STATIC_STATUS_FIRST + STATIC_STATUS.length || nameIndex > STATIC_ENTRIES) return -1;
    at = integerEnd;
    if (at >= end) return -1;
    const huffman = (buf[at] & 0x80) !== 0;
    const length = decodeInteger(buf, at, end, 7);
    at = integerEnd;
    if (length < 0 || at + length > end) return -1;
    if (huffman) return huffmanDigits(buf, at, length);
    if (length !== 3) return -1;
    let value = 0;
    for (let i = at; i < at + 3; i++) {
      const c = buf[i];
      if (c < 48 || c > 57) return -1;
      value = value * 10 + (c - 48);
    }
    return value;
  }
  return -1;
}
