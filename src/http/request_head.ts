// A parsed request head. Header fields stay as bytes until someone reads them: the parser checks
// every field as it goes but records none, and a handler that never looks at req.headers never
// pays for finding or decoding them (nor for an array of offsets per request).
import { COLON, CR, HTAB, SP } from './chars.ts';
import type { IncomingHeaders } from './types.ts';

export const BODY_NONE = 0;
export const BODY_LENGTH = 1;
export const BODY_CHUNKED = 2;

// node:http keeps the first of these when they repeat (IncomingMessage's matchKnownFields).
const FIRST_VALUE_WINS = new Set([
  'content-type', 'content-length', 'user-agent', 'referer', 'host', 'authorization', 'proxy-authorization',
  'if-modified-since', 'if-unmodified-since', 'from', 'location', 'max-forwards', 'retry-after', 'etag',
  'last-modified', 'server', 'age', 'expires',
]);

export class RequestHead {
  readonly method: string;
  readonly url: string;
  /** 0 or 1 (HTTP/1.x). */
  readonly versionMinor: number;
  /** The header block (the lines after the request line, the final empty line excluded) is bytes[fieldsStart, fieldsEnd). */
  private bytes: Buffer;
  private fieldsStart: number;
  private fieldsEnd: number;
  /** `bytes` is the connection's read buffer, which the next read overwrites. */
  private borrowed: boolean;
  keepAlive = true;
  bodyKind = BODY_NONE;
  contentLength = 0;
  expectContinue = false;
  private decoded: IncomingHeaders | null = null;
  /** --request-id: the id this request goes by; req.headers shows it as x-request-id. */
  requestId: string | null = null;
  /** Where the values of Referer and User-Agent are in `bytes`; -1 when absent. Set by the parser. */
  refererStart = -1;
  refererEnd = 0;
  userAgentStart = -1;
  userAgentEnd = 0;

  /** The parser has checked every line of bytes[fieldsStart, fieldsEnd) is `name:OWS value OWS CRLF`. */
  constructor(method: string, url: string, versionMinor: number, bytes: Buffer, fieldsStart: number, fieldsEnd: number, borrowed: boolean) {
    this.method = method;
    this.url = url;
    this.versionMinor = versionMinor;
    this.bytes = bytes;
    this.fieldsStart = fieldsStart;
    this.fieldsEnd = fieldsEnd;
    this.borrowed = borrowed;
  }

  /**
   * Copies the header block out of a read buffer about to be reused. The connection calls it for
   * the heads still in use when a read is done; a request answered within its read never pays it.
   */
  detach(): void {
    if (!this.borrowed) return;
    this.borrowed = false;
    const shift = this.fieldsStart;
    this.bytes = Buffer.from(this.bytes.subarray(shift, this.fieldsEnd));
    this.fieldsEnd -= shift;
    this.fieldsStart = 0;
    if (this.refererStart !== -1) {
      this.refererStart -= shift;
      this.refererEnd -= shift;
    }
    if (this.userAgentStart !== -1) {
      this.userAgentStart -= shift;
      this.userAgentEnd -= shift;
    }
  }

  get httpVersion(): string {
    return this.versionMinor === 1 ? '1.1' : '1.0';
  }

  /** All fields, decoded once, with node's rules for repeated names. */
  headers(): IncomingHeaders {
    if (this.decoded !== null) return this.decoded;
    const out: IncomingHeaders = {};
    const bytes = this.bytes;
    for (let p = this.fieldsStart; p < this.fieldsEnd; ) {
      const colon = bytes.indexOf(COLON, p);
      const cr = bytes.indexOf(CR, colon);
      const name = bytes.toString('latin1', p, colon).toLowerCase();
      const value = bytes.toString('latin1', valueStart(bytes, colon + 1, cr), valueEnd(bytes, colon + 1, cr));
      p = cr + 2;
      const previous = Object.hasOwn(out, name) ? out[name] : undefined;
      if (name === 'set-cookie') {
        if (previous === undefined) defineField(out, name, [value]);
        else (previous as string[]).push(value);
      } else if (previous === undefined) {
        defineField(out, name, value);
      } else if (!FIRST_VALUE_WINS.has(name)) {
        out[name] = previous + (name === 'cookie' ? '; ' : ', ') + value;
      }
    }
    if (this.requestId !== null) out['x-request-id'] = this.requestId;
    this.decoded = out;
    return out;
  }

  /**
   * One field's value as headers() would give it (repeats joined with ', '), found without decoding
   * the others; undefined when absent. `name` is lower case. Not for the names headers() treats
   * specially (set-cookie, cookie, the first-value-wins ones).
   */
  field(name: string): string | undefined {
    const bytes = this.bytes;
    let found: string | undefined;
    for (let p = this.fieldsStart; p < this.fieldsEnd; ) {
      const colon = bytes.indexOf(COLON, p);
      const cr = bytes.indexOf(CR, colon);
      if (colon - p === name.length && bytes.toString('latin1', p, colon).toLowerCase() === name) {
        const value = bytes.toString('latin1', valueStart(bytes, colon + 1, cr), valueEnd(bytes, colon + 1, cr));
        found = found === undefined ? value : `${found}, ${value}`;
      }
      p = cr + 2;
    }
    return found;
  }

  /** The access log's two fields (first occurrence, as node:http keeps), found by the parser on its way. */
  referer(): string | undefined {
    return this.refererStart === -1 ? undefined : this.bytes.toString('latin1', this.refererStart, this.refererEnd);
  }

  userAgent(): string | undefined {
    return this.userAgentStart === -1 ? undefined : this.bytes.toString('latin1', this.userAgentStart, this.userAgentEnd);
  }
}

function valueStart(bytes: Buffer, p: number, cr: number): number {
  while (p < cr && (bytes[p] === SP || bytes[p] === HTAB)) p++;
  return p;
}

function valueEnd(bytes: Buffer, start: number, cr: number): number {
  let end = cr;
  while (end > start && (bytes[end - 1] === SP || bytes[end - 1] === HTAB)) end--;
  return end;
}

// A field named __proto__ must become a property, not the object's prototype.
function defineField(out: IncomingHeaders, name: string, value: string | string[]): void {
  if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  else out[name] = value;
}
