// One thread's share of a run: its connections, the request budget they draw from, the counters
// and the latency histogram. Counting is done in typed arrays on the hot path; turning them into
// a ThreadResult happens once, at the end.
// `performance` from node:perf_hooks: the global is an accessor, a slow IC on every read.
import { performance } from 'node:perf_hooks';
import { Connection } from './connection.ts';
import { LatencyRecorder } from './latency_recorder.ts';
import { Http2Connection } from './http2_connection.ts';
import { tlsTransport } from './tls_transport.ts';
import { plainTcp } from './transport.ts';
import { repeatRequest } from './request.ts';
import { ERROR_KINDS, LIVE_BYTES, LIVE_FAILED, LIVE_SLOTS, LIVE_SUCCEEDED } from './plan.ts';
import type { LoadPlan, ThreadResult } from './plan.ts';
import type { ErrorKind } from './result.ts';

const READ_BUFFER_BYTES = 64 * 1024;
/** The timeout sweep runs at least this often, so a timeout fires at most this late. */
const SWEEP_MAX_MS = 250;

/** What the loop asks of a connection, HTTP/1.x or HTTP/2. */
interface LoadConnection {
  inFlight: number;
  attemptAt: number;
  start(): void;
  stop(): void;
  timedOut(): void;
}

export class LoadLoop {
  readonly plan: LoadPlan;
  /** Shared by every connection of this thread: reads are handled synchronously, one at a time. */
  readonly readBuffer = Buffer.allocUnsafe(READ_BUFFER_BYTES);
  /** `pipeline` copies of the request; a smaller batch is a prefix of it. */
  readonly batch: Buffer;
  /** 0 unless --rate: the gap between two requests of one connection. */
  readonly rateIntervalMs: number;
  stopped = false;

  private readonly live: Float64Array;
  /**
   * succeeded/failed/bytes as counted on the hot path: this thread's own memory. They are copied
   * to `live` (shared with the runner's thread, possibly on the same cache line as another
   * thread's) at each timeout sweep and at the end, so the hot path never writes shared memory.
   */
  private readonly counts = new Float64Array(LIVE_SLOTS);
  private readonly statusCounts = new Float64Array(600);
  private readonly errorCounts = new Float64Array(ERROR_KINDS.length);
  private readonly latencies = new LatencyRecorder();
  private readonly connections: LoadConnection[] = [];
  /** Requests handed out since measuring began (or since the start, while warming up). */
  private issued = 0;
  /** Requests allowed once measuring; Infinity for a timed run and during warm-up. */
  private limit = Infinity;
  private measureStart = 0;
  private timers: NodeJS.Timeout[] = [];
  private done: (result: ThreadResult) => void = () => {};

  /** `live` receives succeeded/failed/bytes as they happen (a SharedArrayBuffer view across threads). */
  constructor(plan: LoadPlan, live: Float64Array = new Float64Array(LIVE_SLOTS)) {
    this.plan = plan;
    this.live = live;
    this.batch = repeatRequest(Buffer.from(plan.request.buffer, plan.request.byteOffset, plan.request.byteLength), plan.pipeline);
    this.rateIntervalMs = plan.rate > 0 ? (1000 * plan.connections) / plan.rate : 0;
  }

  run(): Promise<ThreadResult> {
    return new Promise((resolve) => {
      this.done = resolve;
      const plan = this.plan;
      const now = performance.now();
      if (plan.warmupMs > 0) this.timers.push(setTimeout(() => this.beginMeasuring(), plan.warmupMs));
      else this.beginMeasuring();
      const sweepMs = Math.max(10, Math.min(SWEEP_MAX_MS, plan.timeoutMs / 4));
      this.timers.push(setInterval(() => this.sweepTimeouts(), sweepMs));
      const transport = plan.tls ? tlsTransport(plan.tls) : plainTcp;
      for (let i = 0; i < plan.connections; i++) {
        // With --rate the connections' schedules are staggered evenly across one interval.
        this.connections.push(plan.http2
          ? new Http2Connection(this, transport, plan.http2)
          : new Connection(this, transport, now + (this.rateIntervalMs * i) / plan.connections));
      }
      for (const connection of this.connections) connection.start();
    });
  }

  /** Hands out up to `max` requests from the budget. */
  take(max: number): number {
    if (this.stopped) return 0;
    const n = Math.min(max, this.limit - this.issued);
    this.issued += n;
    return n;
  }

  /** Requests taken but never sent (their connection closed first) go back to the budget. */
  giveBack(count: number): void {
    this.issued -= count;
  }

  /** Counts a success and returns the time it was recorded, for the caller's next request. */
  succeeded(status: number, startedAt: number): number {
    if (status > 0 && status < 600) this.statusCounts[status]++;
    const counts = this.counts;
    counts[LIVE_SUCCEEDED]++;
    const now = performance.now();
    const micros = Math.round((now - startedAt) * 1000);
    this.latencies.record(micros > 0 ? micros : 1);
    if (counts[LIVE_SUCCEEDED] + counts[LIVE_FAILED] >= this.limit) this.finish();
    return now;
  }

  failed(kind: number, count: number): void {
    if (count === 0) return;
    this.errorCounts[kind] += count;
    const counts = this.counts;
    counts[LIVE_FAILED] += count;
    if (counts[LIVE_SUCCEEDED] + counts[LIVE_FAILED] >= this.limit) this.finish();
  }

  received(bytes: number): void {
    this.counts[LIVE_BYTES] += bytes;
  }

  private beginMeasuring(): void {
    this.counts.fill(0);
    this.live.fill(0);
    this.statusCounts.fill(0);
    this.errorCounts.fill(0);
    this.latencies.reset();
    this.measureStart = performance.now();
    // Requests already in flight finish inside the measured period and count toward -n.
    let inFlight = 0;
    for (const connection of this.connections) inFlight += connection.inFlight;
    this.issued = inFlight;
    if (this.plan.requests > 0) this.limit = this.plan.requests;
    if (this.plan.durationMs > 0) this.timers.push(setTimeout(() => this.finish(), this.plan.durationMs));
  }

  private sweepTimeouts(): void {
    this.live.set(this.counts);
    const now = performance.now();
    const timeoutMs = this.plan.timeoutMs;
    for (const connection of this.connections) {
      if (connection.inFlight > 0 && now - connection.attemptAt > timeoutMs) connection.timedOut();
    }
  }

  private finish(): void {
    if (this.stopped) return;
    this.stopped = true;
    const elapsedMs = performance.now() - this.measureStart;
    this.live.set(this.counts);
    for (const timer of this.timers) clearTimeout(timer);
    for (const connection of this.connections) connection.stop();
    const statusCodes: Record<string, number> = {};
    this.statusCounts.forEach((count, status) => {
      if (count > 0) statusCodes[status] = count;
    });
    const errors = {} as Record<ErrorKind, number>;
    ERROR_KINDS.forEach((kind, i) => (errors[kind] = this.errorCounts[i]));
    this.done({
      succeeded: this.counts[LIVE_SUCCEEDED],
      failed: this.counts[LIVE_FAILED],
      bytes: this.counts[LIVE_BYTES],
      elapsedMs,
      statusCodes,
      errors,
      histogram: this.latencies.encode(),
    });
  }
}
