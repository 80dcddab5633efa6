// What a worker reports about itself every second when --metrics is on: cumulative counters since
// the worker started (so a report lost or repeated changes nothing), and gauges of the moment.
// The supervisor keeps each worker's latest report and adds it to its slot's total when it exits.

/** Upper bounds of the request-duration histogram, in seconds (Prometheus' client defaults). */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

/** Methods counted by name; anything else is 'other', so a client cannot grow the label set. */
export const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'CONNECT', 'TRACE'] as const;
export const STATUS_CLASSES = ['1xx', '2xx', '3xx', '4xx', '5xx'] as const;

export interface MetricsSnapshot {
  /** Responses by `${method} ${class}`, e.g. 'GET 2xx'. */
  requests: Record<string, number>;
  /** Responses per duration bucket (not cumulative): DURATION_BUCKETS.length + 1 entries, the last +Inf. */
  durationCounts: number[];
  durationSumSeconds: number;
  bodyBytes: number;
  connectionsAccepted: number;
  accessLogRecords: number;
  accessLogDropped: number;
  connectionsOpen: number;
  rssBytes: number;
  cpuSeconds: number;
  /** Event-loop delay over the last report interval, seconds. */
  loopDelayP50: number;
  loopDelayP99: number;
}

export function emptySnapshot(): MetricsSnapshot {
  return {
    requests: {}, durationCounts: new Array<number>(DURATION_BUCKETS.length + 1).fill(0), durationSumSeconds: 0, bodyBytes: 0,
    connectionsAccepted: 0, accessLogRecords: 0, accessLogDropped: 0, connectionsOpen: 0, rssBytes: 0, cpuSeconds: 0, loopDelayP50: 0, loopDelayP99: 0,
  };
}

/** Adds the counters of `b` to `a` (gauges are not summed: they belong to one process). */
export function addCounters(a: MetricsSnapshot, b: MetricsSnapshot): void {
  for (const [key, n] of Object.entries(b.requests)) a.requests[key] = (a.requests[key] ?? 0) + n;
  b.durationCounts.forEach((n, i) => (a.durationCounts[i] += n));
  a.durationSumSeconds += b.durationSumSeconds;
  a.bodyBytes += b.bodyBytes;
  a.connectionsAccepted += b.connectionsAccepted;
  a.accessLogRecords += b.accessLogRecords;
  a.accessLogDropped += b.accessLogDropped;
  a.cpuSeconds += b.cpuSeconds;
}
