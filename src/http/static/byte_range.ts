// The Range header for one representation (RFC 9110 14.1-14.2): a single byte range is honoured;
// anything else this server does not do (other units, several ranges, bad syntax) is ignored,
// which the RFC allows, and the client gets the whole file with 200.

export interface ByteRange {
  /** First byte, inclusive. */
  readonly start: number;
  /** Last byte, inclusive. */
  readonly end: number;
}

/** 'ignore': serve the whole representation. 'unsatisfiable': 416. */
export type RangeVerdict = ByteRange | 'ignore' | 'unsatisfiable';

const SINGLE = /^bytes[ \t]*=[ \t]*(\d*)[ \t]*-[ \t]*(\d*)[ \t]*$/i;

export function parseRange(header: string, size: number): RangeVerdict {
  const m = SINGLE.exec(header);
  if (m === null) return 'ignore';
  const [, first, last] = m;
  if (first === '') {
    if (last === '') return 'ignore';
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return 'ignore'; // invalid range-spec
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return { start, end };
}
