// A connection's timeouts as fields, as Go's net/http keeps them: the engine's limits (one object
// for all its connections) and the moments each counts from. The engine's sweep asks; the
// connection decides what to do about a limit passed. No timer per connection or request.

/** The engine's limits in ms; 0: off. */
export interface TimeoutLimits {
  /** --request-timeout: the handler's answer, from the end of the request's body. */
  readonly requestMs: number;
  /** --headers-timeout: a request head, from its first byte (and the first request, from accept). */
  readonly headersMs: number;
  /** --keep-alive-timeout: an idle connection between requests. */
  readonly keepAliveMs: number;
  /** --body-timeout: a request body that moves no bytes. */
  readonly bodyMs: number;
}

/** How long a closing connection may keep sending us bytes before it is destroyed. */
const LINGER_MS = 2000;

export class ConnectionTimeouts {
  readonly limits: TimeoutLimits;
  /** When we started waiting for a request head (accept, or the last response). */
  waitingSince: number;
  /** When the first bytes of the current unfinished head were read; 0 when none. */
  headStartedAt = 0;
  /** When the receiving request's last body bytes (or its head) arrived. */
  bodyMovedAt = 0;
  /** When the connection began closing (and then when our FIN went out); 0 while open. */
  closingSince = 0;

  constructor(limits: TimeoutLimits, now: number) {
    this.limits = limits;
    this.waitingSince = now;
  }

  lingerOver(now: number): boolean {
    return now - this.closingSince >= LINGER_MS;
  }

  bodyStalled(now: number): boolean {
    const limit = this.limits.bodyMs;
    return limit > 0 && now - this.bodyMovedAt >= limit;
  }

  /** A response awaited since `since` is late. */
  answerLate(since: number, now: number): boolean {
    const limit = this.limits.requestMs;
    return limit > 0 && now - since >= limit;
  }

  headLate(now: number): boolean {
    const limit = this.limits.headersMs;
    return limit > 0 && now - this.headStartedAt >= limit;
  }

  /** Idle too long: a kept-alive connection by the keep-alive limit, a new one by the head limit. */
  idleOver(now: number, servedAny: boolean): boolean {
    const limit = servedAny ? this.limits.keepAliveMs : this.limits.headersMs;
    return limit > 0 && now - this.waitingSince >= limit;
  }
}

/**
 * How often a sweep over connections (or requests, or handshakes) checks `timeoutsMs` (0: off):
 * a quarter of the shortest, so a limit is judged a few % late at most, between 10 ms and 1 s.
 */
export function sweepEveryMs(timeoutsMs: readonly number[]): number {
  const shortest = Math.min(...timeoutsMs.filter((t) => t > 0), 4000);
  return Math.max(10, Math.min(1000, Math.floor(shortest / 4)));
}
