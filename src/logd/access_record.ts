// One finished HTTP exchange, as an engine reports it for the access log.
export interface AccessRecord {
  /** Client address (no port). */
  remote: string;
  /** Wall-clock time the request started, ms since the epoch. */
  time: number;
  method: string;
  url: string;
  /** '1.0' or '1.1'. */
  httpVersion: string;
  status: number;
  /** Body bytes sent (what nginx calls $body_bytes_sent). */
  bytes: number;
  referer: string | undefined;
  userAgent: string | undefined;
  /** Time from request start to response finish. */
  durationMs: number;
  /** With --request-id: the id the request went by. */
  requestId?: string;
}
