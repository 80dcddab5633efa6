// What one load thread is told to do and what it hands back: plain data, so it crosses
// worker_threads boundaries by structured clone.
import type { ErrorKind } from './result.ts';
import type { Http2Plan } from './http2_connection.ts';
import type { TlsSettings } from './tls_transport.ts';

export const ERROR_KINDS: readonly ErrorKind[] = ['refused', 'reset', 'timeout', 'bad_response', 'other'];

/** Live counters a thread publishes at each timeout sweep (at most 250 ms apart); the runner reads them for the progress line. */
export const LIVE_SUCCEEDED = 0;
export const LIVE_FAILED = 1;
export const LIVE_BYTES = 2;
export const LIVE_SLOTS = 3;

export interface LoadPlan {
  /** Resolved address, so no connection waits on DNS. */
  address: string;
  port: number;
  /** One pre-encoded request. */
  request: Uint8Array;
  headRequest: boolean;
  http09: boolean;
  connections: number;
  keepAlive: boolean;
  /** Requests written back to back per connection before waiting for their responses. */
  pipeline: number;
  /** webbench's -f: count a request once written, never read the reply. */
  force: boolean;
  /** Exact number of requests this thread makes after warm-up; 0 when the run is timed. */
  requests: number;
  /** Measured time in ms; 0 when the run is counted by requests. */
  durationMs: number;
  warmupMs: number;
  /** This thread's share of a constant request rate (requests/s); 0 for as fast as possible. */
  rate: number;
  timeoutMs: number;
  /** https:// over HTTP/1.x; null for plain TCP. */
  tls: TlsSettings | null;
  /** --http2: sessions and streams instead of `request` bytes; null for HTTP/1.x. */
  http2: Http2Plan | null;
}

export interface ThreadResult {
  succeeded: number;
  failed: number;
  bytes: number;
  /** Milliseconds from the end of warm-up to the end of the run. */
  elapsedMs: number;
  statusCodes: Record<string, number>;
  errors: Record<ErrorKind, number>;
  /** Latency histogram in microseconds, HDR compressed base64 (mergeable across threads). */
  histogram: string;
}

/** What a load thread posts to the runner: that it is ready to start, then its result. */
export type ThreadMessage = { t: 'ready' } | { t: 'result'; result: ThreadResult };
