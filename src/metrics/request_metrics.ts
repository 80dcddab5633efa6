// The worker's half of --metrics: counts each finished response (the engine's onResponse) into
// plain numbers, and reports a snapshot every second. Per request it is one map lookup, a short bucket
// scan and a few additions: no label strings built, no library on the hot path.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { DURATION_BUCKETS, METHODS, STATUS_CLASSES, type MetricsSnapshot } from './snapshot.ts';

/** Event-loop delay sampling period, ms; node's histogram counts it in every sample, so it is taken off. */
const LOOP_RESOLUTION_MS = 10;

export class RequestMetrics {
  /** counts[method index][status class]: 'other' methods and odd statuses in the last row/column. */
  private readonly counts = Array.from({ length: METHODS.length + 1 }, () => new Array<number>(STATUS_CLASSES.length + 1).fill(0));
  private readonly methodIndex = new Map<string, number>(METHODS.map((m, i) => [m, i]));
  private readonly durationCounts = new Array<number>(DURATION_BUCKETS.length + 1).fill(0);
  private durationSum = 0;
  private bodyBytes = 0;
  private readonly loopDelay: ReturnType<typeof monitorEventLoopDelay>;

  constructor() {
    this.loopDelay = monitorEventLoopDelay({ resolution: LOOP_RESOLUTION_MS });
    this.loopDelay.enable();
  }

  record(methodName: string, status: number, bodyBytes: number, durationMs: number): void {
    const method = this.methodIndex.get(methodName) ?? METHODS.length;
    const statusClass = status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : STATUS_CLASSES.length;
    this.counts[method][statusClass]++;
    const seconds = durationMs / 1000;
    let bucket = 0;
    while (bucket < DURATION_BUCKETS.length && seconds > DURATION_BUCKETS[bucket]) bucket++;
    this.durationCounts[bucket]++;
    this.durationSum += seconds;
    this.bodyBytes += bodyBytes;
  }

  snapshot(facts: { accepted: number; open: number; logRecords: number; logDropped: number }): MetricsSnapshot {
    const requests: Record<string, number> = {};
    this.counts.forEach((row, m) =>
      row.forEach((n, c) => {
        if (n > 0) requests[`${METHODS[m] ?? 'other'} ${STATUS_CLASSES[c] ?? 'other'}`] = n;
      }),
    );
    const cpu = process.cpuUsage();
    const snapshot: MetricsSnapshot = {
      requests,
      durationCounts: [...this.durationCounts],
      durationSumSeconds: this.durationSum,
      bodyBytes: this.bodyBytes,
      connectionsAccepted: facts.accepted,
      accessLogRecords: facts.logRecords,
      accessLogDropped: facts.logDropped,
      connectionsOpen: facts.open,
      rssBytes: process.memoryUsage.rss(),
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      loopDelayP50: this.loopDelaySeconds(50),
      loopDelayP99: this.loopDelaySeconds(99),
    };
    this.loopDelay.reset();
    return snapshot;
  }

  private loopDelaySeconds(percentile: number): number {
    const ns = this.loopDelay.count === 0 ? 0 : this.loopDelay.percentile(percentile);
    return Math.max(0, ns / 1e6 - LOOP_RESOLUTION_MS) / 1000;
  }
}
