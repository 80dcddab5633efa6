// runBench: resolve the options, split the run across threads (each its own event loop and share
// of the connections, requests and rate), run them, merge what they return into one BenchResult.
import { Worker } from 'node:worker_threads';
import * as hdr from 'hdr-histogram-js';
import { siblingModule } from '../source_module.ts';
import { newHistogram } from './latency_recorder.ts';
import { LoadLoop } from './load_loop.ts';
import { resolveOptions } from './options.ts';
import { ERROR_KINDS, LIVE_BYTES, LIVE_FAILED, LIVE_SLOTS, LIVE_SUCCEEDED } from './plan.ts';
import type { BenchOptions, ResolvedBench } from './options.ts';
import type { LoadPlan, ThreadMessage, ThreadResult } from './plan.ts';
import type { BenchResult, ErrorKind } from './result.ts';

/** Splits `total` into `parts` whole shares that differ by at most one. */
function share(total: number, parts: number, index: number): number {
  return Math.floor(total / parts) + (index < total % parts ? 1 : 0);
}

function threadPlans(run: ResolvedBench): LoadPlan[] {
  const plans: LoadPlan[] = [];
  for (let t = 0; t < run.threads; t++) {
    const connections = share(run.connections, run.threads, t);
    plans.push({
      address: run.address,
      port: run.port,
      request: run.request,
      headRequest: run.method === 'HEAD',
      http09: run.http === '0.9',
      connections,
      keepAlive: run.keepAlive,
      pipeline: run.pipeline,
      force: run.force,
      requests: run.requests > 0 ? share(run.requests, run.threads, t) : 0,
      durationMs: run.durationSec * 1000,
      warmupMs: run.warmupSec * 1000,
      rate: (run.rate * connections) / run.connections,
      timeoutMs: run.timeoutSec * 1000,
      tls: run.tls,
      http2: run.http2,
    });
  }
  return plans;
}

/** A load thread in a worker: started (its modules loaded) first, told to go once all are ready. */
interface LoadThread {
  /** Settles once the thread can start loading, or rejects if it failed first. */
  ready: Promise<void>;
  result: Promise<ThreadResult>;
  go(): void;
  terminate(): void;
}

function startThread(plan: LoadPlan, live: Float64Array): LoadThread {
  const worker = new Worker(siblingModule('./load_thread', import.meta.url), { workerData: { plan, live } });
  let markReady = (): void => {};
  const ready = new Promise<void>((resolve) => (markReady = resolve));
  const result = new Promise<ThreadResult>((resolve, reject) => {
    worker.on('message', (message: ThreadMessage) => {
      if (message.t === 'ready') markReady();
      else resolve(message.result);
    });
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new Error(`load thread exited with code ${code} before reporting`)));
  });
  return {
    ready: Promise.race([ready, result.then(() => {})]),
    result,
    go: () => worker.postMessage('go'),
    terminate: () => void worker.terminate(),
  };
}

function merge(run: ResolvedBench, results: ThreadResult[]): BenchResult {
  const histogram = newHistogram();
  const statusCodes: Record<string, number> = {};
  const errors = Object.fromEntries(ERROR_KINDS.map((kind) => [kind, 0])) as Record<ErrorKind, number>;
  let succeeded = 0;
  let failed = 0;
  let bytes = 0;
  let elapsedMs = 0;
  for (const r of results) {
    succeeded += r.succeeded;
    failed += r.failed;
    bytes += r.bytes;
    elapsedMs = Math.max(elapsedMs, r.elapsedMs);
    for (const [status, count] of Object.entries(r.statusCodes)) statusCodes[status] = (statusCodes[status] ?? 0) + count;
    for (const kind of ERROR_KINDS) errors[kind] += r.errors[kind];
    histogram.add(hdr.decodeFromCompressedBase64(r.histogram, 32, false));
  }
  const durationSec = elapsedMs / 1000;
  const rps = durationSec > 0 ? succeeded / durationSec : 0;
  const ms = (micros: number): number => micros / 1000;
  const empty = histogram.totalCount === 0;
  return {
    url: run.url,
    connections: run.connections,
    threads: run.threads,
    keepAlive: run.keepAlive,
    pipeline: run.pipeline,
    durationSec,
    requests: { succeeded, failed },
    rps,
    pagesPerMin: rps * 60,
    bytesPerSec: durationSec > 0 ? bytes / durationSec : 0,
    bytesTotal: bytes,
    latencyMs: {
      p50: empty ? 0 : ms(histogram.getValueAtPercentile(50)),
      p90: empty ? 0 : ms(histogram.getValueAtPercentile(90)),
      p99: empty ? 0 : ms(histogram.getValueAtPercentile(99)),
      p999: empty ? 0 : ms(histogram.getValueAtPercentile(99.9)),
      max: empty ? 0 : ms(histogram.maxValue),
      mean: empty ? 0 : ms(histogram.mean),
    },
    statusCodes,
    errors,
  };
}

/** Runs a resolved benchmark. One thread's share runs on the caller's own event loop. */
export async function runResolved(run: ResolvedBench, onProgress?: BenchOptions['onProgress']): Promise<BenchResult> {
  const plans = threadPlans(run);
  const lives = plans.map(() => new Float64Array(new SharedArrayBuffer(LIVE_SLOTS * Float64Array.BYTES_PER_ELEMENT)));
  const started = performance.now();
  const progress = onProgress
    ? setInterval(() => {
        let succeeded = 0, failed = 0, bytes = 0;
        for (const live of lives) {
          succeeded += live[LIVE_SUCCEEDED];
          failed += live[LIVE_FAILED];
          bytes += live[LIVE_BYTES];
        }
        onProgress({ elapsedSec: (performance.now() - started) / 1000, succeeded, failed, bytes });
      }, 1000)
    : null;
  // The first share runs on this thread's own event loop (it would only wait otherwise, and a
  // worker costs a Node environment and the modules loaded again: ~0.25 s of CPU); the others each
  // in a worker. All start together once every worker has loaded.
  const workers = plans.slice(1).map((plan, i) => startThread(plan, lives[i + 1]));
  try {
    await Promise.all(workers.map((worker) => worker.ready));
    for (const worker of workers) worker.go();
    const results = await Promise.all([new LoadLoop(plans[0], lives[0]).run(), ...workers.map((worker) => worker.result)]);
    return merge(run, results);
  } catch (err) {
    for (const worker of workers) worker.terminate();
    throw err;
  } finally {
    if (progress) clearInterval(progress);
  }
}

/** The programmatic `herd bench`: what `--json` prints. Throws UsageError for bad options. */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  return runResolved(await resolveOptions(options), options.onProgress);
}
