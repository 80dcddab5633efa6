// A response's header list as the fast engine keeps it: [name, lower-case name, value, name, ...],
// one flat array allocated at the first header, validated as node:http validates them.
import { HerdError } from '../errors.ts';
import type { OutgoingHeaderValue } from './types.ts';

/** Never changed once the head is rendered, so the encoded response cache may keep it as is. */
export type HeaderList = (string | OutgoingHeaderValue)[];
/** The headers of a response that has none yet; never written to (the first header replaces it). */
export const NO_HEADERS: HeaderList = [];

const HEADER_NAME = /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/;
export const INVALID_VALUE_CHAR = /[^\t\x20-\x7e\x80-\xff]/;

// The last header name and string value that passed validation, and the name in lower case:
// handlers set the same headers on every response, and a string compare is cheaper than a regexp.
let checkedName = '';
let checkedLowerName = '';
let checkedValue = '';

/** Sets (or replaces) a header in `list` after validating it; returns the list, a new one when `list` was NO_HEADERS. */
export function setHeaderIn(list: HeaderList, name: string, value: OutgoingHeaderValue): HeaderList {
  if (name !== checkedName) {
    if (!HEADER_NAME.test(name)) throw new HerdError(`invalid header name '${name}'`, 'HERD_INVALID_HEADER');
    checkedName = name;
    checkedLowerName = name.toLowerCase();
  }
  const lower = checkedLowerName;
  if (typeof value === 'string') {
    if (value !== checkedValue) {
      if (INVALID_VALUE_CHAR.test(value)) throw new HerdError(`invalid character in the value of header '${name}'`, 'HERD_INVALID_HEADER');
      checkedValue = value;
    }
  } else if (typeof value === 'number') {
    // numbers render as digits
  } else if (Array.isArray(value)) {
    for (const v of value) if (INVALID_VALUE_CHAR.test(String(v))) throw new HerdError(`invalid character in the value of header '${name}'`, 'HERD_INVALID_HEADER');
  } else {
    throw new HerdError(`invalid value for header '${name}': ${String(value)}`, 'HERD_INVALID_HEADER');
  }
  const k = indexOfHeader(list, lower);
  if (k !== -1) {
    list[k] = name;
    list[k + 2] = value;
    return list;
  }
  if (list === NO_HEADERS) return [name, lower, value];
  list.push(name, lower, value);
  return list;
}

/** Where the header's triple starts in `list`, or -1. */
export function indexOfHeader(list: HeaderList, lower: string): number {
  for (let k = 0; k < list.length; k += 3) if (list[k + 1] === lower) return k;
  return -1;
}
