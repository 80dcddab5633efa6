// --request-id: every request carries an id the app, the response and the access log share. A client's
// (or a balancer's) X-Request-Id is kept when it is sane; otherwise the worker makes one: a random
// prefix drawn once per process and a counter, so making one costs a string concatenation.
import { randomBytes } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';
const MAX_LENGTH = 200;
const PREFIX = randomBytes(6).toString('hex');
let counter = 0;

/** Printable ASCII without spaces (0x21–0x7E), 1 to 200 bytes: safe in a header, a log line and a label. */
export function isValidRequestId(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_LENGTH) return false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

export function newRequestId(): string {
  return `${PREFIX}-${(++counter).toString(36)}`;
}

/** The id a request goes by: the one it came with when valid, else a new one. */
export function requestIdFor(given: string | string[] | undefined): string {
  return isValidRequestId(given) ? given : newRequestId();
}
