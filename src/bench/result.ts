// The result of one `herd bench` run: what `--json` prints and what `herd lab` reads.
export type ErrorKind = 'refused' | 'reset' | 'timeout' | 'bad_response' | 'other';

export interface BenchResult {
  url: string;
  /** Connections (webbench's "clients"). */
  connections: number;
  threads: number;
  keepAlive: boolean;
  pipeline: number;
  /** Measured seconds (after warm-up). */
  durationSec: number;
  requests: {
    /** Requests that got a complete, valid response (or were sent, with --force). */
    succeeded: number;
    failed: number;
  };
  /** Succeeded requests per second, and per minute as webbench prints it. */
  rps: number;
  pagesPerMin: number;
  /** Response bytes received (head and body) per second. */
  bytesPerSec: number;
  bytesTotal: number;
  /** Latency in milliseconds, from an HDR histogram (corrected for coordinated omission with --rate). */
  latencyMs: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number };
  /** Response count by status code, e.g. { "200": 1234 }. */
  statusCodes: Record<string, number>;
  /** Failed requests by kind. */
  errors: Record<ErrorKind, number>;
}
