// The matrix runner: every model × load mode × concurrency, each cell loaded by herd bench in its own
// process and probed from /proc before, during and after the load.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BenchResult } from '../bench/result.ts';
import { HerdError } from '../errors.ts';
import { AcceptQueueSampler, type AcceptQueueStats } from './accept_queue.ts';
import { runBenchProcess, type BenchLoad } from './bench_process.ts';
import { treeContextSwitches } from './context_switches.ts';
import { listenCountersDelta, readListenCounters } from './listen_counters.ts';
import type { ServerModel } from './models.ts';
import { assertPortFree } from './ports.ts';
import { processTree, treeCpuMicros } from './process_cpu.ts';
import { Progress } from './progress.ts';
import type { CellResult, LabSettings, LoadMode, TraceFigures } from './results.ts';
import { startServer, type RunningServer } from './running_server.ts';
import { SyscallTracer, type AcceptTrace } from './syscall_trace.ts';
import { countersDelta, shareOf } from './worker_share.ts';

/** Planning figures for the time-left estimate (refined by what the run measures). */
const SERVER_OVERHEAD_SEC = 2.5;
const CELL_OVERHEAD_SEC = 0.7;
/** A traced run is short: strace slows the server down anyway, only the counts matter. */
const TRACE_SECONDS = 1;

export interface MatrixRun {
  cells: CellResult[];
  notes: string[];
  /** false when stopped by the signal before the end. */
  complete: boolean;
}

export function plannedSeconds(models: number, settings: Pick<LabSettings, 'concurrency' | 'modes' | 'durationSec' | 'trace'>): number {
  const cells = models * settings.concurrency.length * settings.modes.length;
  const perCell = settings.durationSec + CELL_OVERHEAD_SEC + (settings.trace ? TRACE_SECONDS + 1.5 : 0);
  return models * SERVER_OVERHEAD_SEC + cells * perCell;
}

function perRequest(value: number, requests: number): number | null {
  return requests > 0 ? value / requests : null;
}

async function measureCell(server: RunningServer, load: BenchLoad, mode: LoadMode, port: number, signal: AbortSignal): Promise<CellResult> {
  const pid = server.pid;
  const cpuBefore = treeCpuMicros(pid);
  const switchesBefore = treeContextSwitches(pid);
  const listenBefore = readListenCounters();
  const workersBefore = await server.workerCounters();
  const sampler = new AcceptQueueSampler(port);
  let bench: BenchResult;
  let acceptQueue: AcceptQueueStats;
  try {
    bench = await runBenchProcess(load, signal);
  } finally {
    acceptQueue = sampler.stop();
  }
  const cpu = treeCpuMicros(pid) - cpuBefore;
  const switchesAfter = treeContextSwitches(pid);
  const listen = listenCountersDelta(listenBefore, readListenCounters());
  const workersAfter = await server.workerCounters();
  const served = bench.requests.succeeded;
  return {
    model: server.model.id,
    mode,
    concurrency: load.connections,
    durationSec: bench.durationSec,
    succeeded: served,
    failed: bench.requests.failed,
    errors: bench.errors,
    rps: bench.rps,
    pagesPerMin: bench.pagesPerMin,
    p99Ms: bench.latencyMs.p99,
    serverCpuMicros: cpu,
    cpuMicrosPerRequest: perRequest(cpu, served),
    voluntarySwitchesPerRequest: perRequest(switchesAfter.voluntary - switchesBefore.voluntary, served),
    involuntarySwitchesPerRequest: perRequest(switchesAfter.involuntary - switchesBefore.involuntary, served),
    listenOverflows: listen.listenOverflows,
    listenDrops: listen.listenDrops,
    acceptQueue,
    workerShare:
      workersBefore && workersAfter ? shareOf(countersDelta(workersBefore.counters, workersAfter.counters), workersAfter.source) : null,
    trace: null,
  };
}

/** A second, short run of the same load with strace counting accept calls in every server process. */
async function traceCell(server: RunningServer, load: BenchLoad, signal: AbortSignal): Promise<TraceFigures> {
  const tracer = new SyscallTracer(server.pid);
  await tracer.attached(processTree(server.pid).length);
  let traced: BenchResult;
  let counts: AcceptTrace;
  try {
    traced = await runBenchProcess({ ...load, seconds: TRACE_SECONDS }, signal);
  } finally {
    counts = await tracer.stop();
  }
  // With keep-alive each client opens one connection (more only after errors).
  const connections = load.keepAlive ? load.connections + traced.requests.failed : traced.requests.succeeded + traced.requests.failed;
  const per = (n: number) => (connections > 0 ? n / connections : 0);
  return {
    seconds: TRACE_SECONDS,
    connections,
    acceptCallsPerConnection: per(counts.acceptCalls),
    failedAcceptsPerConnection: per(counts.acceptErrors),
    epollWaitsPerConnection: per(counts.epollWaits),
  };
}

function describeCell(model: ServerModel, mode: LoadMode, concurrency: number): string {
  return `${model.id} ${mode} c=${concurrency}`;
}

export async function runMatrix(models: ServerModel[], settings: LabSettings, signal: AbortSignal): Promise<MatrixRun> {
  const cells: CellResult[] = [];
  const notes: string[] = [];
  const total = models.length * settings.modes.length * settings.concurrency.length;
  const progress = new Progress(total, plannedSeconds(models.length, settings));
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-'));
  const started = Date.now();
  let finished = 0;
  const secondsLeft = () => {
    const perCell = (Date.now() - started) / 1000 / Math.max(1, finished);
    return perCell * (total - finished);
  };
  try {
    for (const model of models) {
      if (signal.aborted) break;
      try {
        await assertPortFree(settings.host, settings.port);
      } catch (err) {
        // Before anything ran: refuse. Mid-run (someone took the port): keep what finished.
        if (cells.length === 0 || !(err instanceof HerdError)) throw err;
        notes.push(`run stopped before ${model.id}: ${err.message}`);
        progress.note(`herd lab: stopped before ${model.id}: ${err.message}`);
        return { cells, notes, complete: false };
      }
      let server: RunningServer;
      try {
        server = await startServer(model, { host: settings.host, port: settings.port, workDir });
      } catch (err) {
        if (!(err instanceof HerdError)) throw err;
        notes.push(`${model.id}: skipped, ${err.message}`);
        progress.note(`herd lab: ${model.id} skipped: ${err.message}`);
        finished += settings.modes.length * settings.concurrency.length;
        progress.skip(settings.modes.length * settings.concurrency.length, secondsLeft());
        continue;
      }
      try {
        // One short load first, so that no cell measures a cold JIT.
        progress.start(`${model.id} warm-up`);
        await runBenchProcess({ url: server.url, connections: 10, seconds: 1, keepAlive: false }, signal);
        for (const mode of settings.modes) {
          for (const concurrency of settings.concurrency) {
            if (signal.aborted) break;
            const what = describeCell(model, mode, concurrency);
            progress.start(what);
            const load: BenchLoad = { url: server.url, connections: concurrency, seconds: settings.durationSec, keepAlive: mode === 'keep-alive' };
            try {
              const cell = await measureCell(server, load, mode, settings.port, signal);
              if (settings.trace) {
                try {
                  cell.trace = await traceCell(server, load, signal);
                } catch (err) {
                  if (signal.aborted || !(err instanceof HerdError)) throw err;
                  notes.push(`${what}: not traced, ${err.message}`);
                }
              }
              cells.push(cell);
              finished++;
              progress.finish(what, `${Math.round(cell.pagesPerMin)} pages/min, ${cell.failed} failed`, secondsLeft());
            } catch (err) {
              if (signal.aborted) break;
              if (!(err instanceof HerdError)) throw err;
              notes.push(`${what}: ${err.message}`);
              finished++;
              progress.finish(what, `failed: ${err.message}`, secondsLeft());
            }
          }
        }
      } catch (err) {
        if (!signal.aborted) throw err;
      } finally {
        await server.stop();
      }
    }
  } finally {
    progress.end();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
  return { cells, notes, complete: !signal.aborted };
}
