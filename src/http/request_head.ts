// A parsed request head. Header fields stay as offsets into the head's bytes until someone reads
// them: a handler that never looks at req.headers never pays for decoding them.
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
  /** nameStart, nameEnd, valueStart, valueEnd for each field, into `bytes`. */
  readonly fields: number[] = [];
  readonly bytes: Buffer;
  keepAlive = true;
  bodyKind = BODY_NONE;
  contentLength = 0;
  expectContinue = false;
  private decoded: IncomingHeaders | null = null;

  constructor(method: string, url: string, versionMinor: number, bytes: Buffer) {
    this.method = method;
    this.url = url;
    this.versionMinor = versionMinor;
    this.bytes = bytes;
  }

  get httpVersion(): string {
    return this.versionMinor === 1 ? '1.1' : '1.0';
  }

  /** All fields, decoded once, with node's rules for repeated names. */
  headers(): IncomingHeaders {
    if (this.decoded !== null) return this.decoded;
    const out: IncomingHeaders = {};
    const f = this.fields;
    const bytes = this.bytes;
    for (let k = 0; k < f.length; k += 4) {
      const name = bytes.toString('latin1', f[k], f[k + 1]).toLowerCase();
      const value = bytes.toString('latin1', f[k + 2], f[k + 3]);
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
    this.decoded = out;
    return out;
  }

  /** One field's value (first occurrence) without decoding the others; for the access log. */
  header(lowerName: string): string | undefined {
    if (this.decoded !== null) {
      const v = this.decoded[lowerName];
      return Array.isArray(v) ? v[0] : v;
    }
    const f = this.fields;
    const bytes = this.bytes;
    for (let k = 0; k < f.length; k += 4) {
      if (f[k + 1] - f[k] !== lowerName.length) continue;
      if (bytes.toString('latin1', f[k], f[k + 1]).toLowerCase() === lowerName) return bytes.toString('latin1', f[k + 2], f[k + 3]);
    }
    return undefined;
  }
}

// A field named __proto__ must become a property, not the object's prototype.
function defineField(out: IncomingHeaders, name: string, value: string | string[]): void {
  if (name === '__proto__') Object.defineProperty(out, name, { value, enumerable: true, writable: true, configurable: true });
  else out[name] = value;
}
