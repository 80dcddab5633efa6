// Conditional requests against a file's validators (RFC 9110 13.2.2, in the RFC's order).
import type { IncomingHeaders } from '../types.ts';

export interface Validators {
  /** Strong entity tag, quoted. */
  readonly etag: string;
  /** Last modification in whole seconds, the precision of HTTP dates. */
  readonly mtimeSeconds: number;
}

/** What the preconditions decide for a GET or HEAD: go on, 304 Not Modified, or 412 Precondition Failed. */
export type Precondition = 'proceed' | 304 | 412;

export function evaluatePreconditions(headers: IncomingHeaders, v: Validators): Precondition {
  const ifMatch = headers['if-match'];
  if (typeof ifMatch === 'string') {
    if (!matchesAny(ifMatch, v.etag, false)) return 412;
  } else {
    const since = httpDateSeconds(headers['if-unmodified-since']);
    if (since !== null && v.mtimeSeconds > since) return 412;
  }
  const ifNoneMatch = headers['if-none-match'];
  if (typeof ifNoneMatch === 'string') return matchesAny(ifNoneMatch, v.etag, true) ? 304 : 'proceed';
  const since = httpDateSeconds(headers['if-modified-since']);
  if (since !== null && v.mtimeSeconds <= since) return 304;
  return 'proceed';
}

/** If-Range: the Range applies only if the client's copy is the current one (strong comparison). */
export function ifRangeHolds(headers: IncomingHeaders, v: Validators): boolean {
  const value = headers['if-range'];
  if (typeof value !== 'string') return true;
  const trimmed = value.trim();
  if (trimmed.startsWith('"') || trimmed.startsWith('W/')) return trimmed === v.etag;
  return httpDateSeconds(trimmed) === v.mtimeSeconds;
}

/** A list of entity tags (or '*') against ours; weak comparison ignores the W/ prefix. */
function matchesAny(list: string, etag: string, weak: boolean): boolean {
  if (list.trim() === '*') return true;
  for (const item of list.split(',')) {
    let tag = item.trim();
    if (weak && tag.startsWith('W/')) tag = tag.slice(2);
    if (tag === etag) return true;
  }
  return false;
}

function httpDateSeconds(value: string | string[] | undefined): number | null {
  if (typeof value !== 'string') return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : Math.floor(ms / 1000);
}
