// One cell of the herd experiment: one server at one worker count under one load, run twice — once
// untraced (server CPU from /proc, connect-to-first-byte latency) and once traced (the kernel's
// counts of accept4 returns and of the loops' wake-ups and switches).
import { HerdError } from '../../errors.ts';
import { treeContextSwitches } from '../context_switches.ts';
import { PerfCounter, type KernelCounts } from '../perf_counter.ts';
import { processTree, treeCpuMicros } from '../process_cpu.ts';
import { SyscallTracer } from '../syscall_trace.ts';
import { connectBursts, percentile, sequentialConnections, type ConnectOutcome } from './connect_load.ts';
import type { HerdCell, HerdLoad, HerdServer, HerdSettings, TracerName } from './herd_results.ts';
import { serverThreads } from './server_threads.ts';

export interface CellTarget {
  server: HerdServer;
  workers: number;
  pid: number;
  host: string;
  port: number;
}

export function runLoad(target: CellTarget, load: HerdLoad, settings: HerdSettings, signal?: AbortSignal): Promise<ConnectOutcome> {
  return load === 'sequential'
    ? sequentialConnections(target.host, target.port, settings.sequentialConnections, 2, signal)
    : connectBursts(target.host, target.port, settings.bursts, settings.burstSize, 50, signal);
}

/** What a traced run counted, whichever tracer counted it. */
interface Traced {
  connections: number;
  eagain: number;
  accepted: number;
  schedWakeups: number | null;
  switches: number;
}

async function tracedRun(target: CellTarget, load: HerdLoad, settings: HerdSettings, tracer: TracerName, signal?: AbortSignal): Promise<Traced> {
  if (tracer === 'perf') {
    const threads = serverThreads(target.pid, target.server === 'threads');
    const perf = await PerfCounter.start(threads.all, threads.loops);
    let outcome: ConnectOutcome;
    try {
      outcome = await runLoad(target, load, settings, signal);
    } catch (err) {
      await perf.abandon();
      throw err;
    }
    const counts: KernelCounts = await perf.stop();
    return { connections: outcome.succeeded, eagain: counts.eagainAccepts, accepted: counts.acceptedAccepts, schedWakeups: counts.loopWakeups, switches: counts.loopSwitches };
  }
  const strace = new SyscallTracer(target.pid);
  await strace.attached(processTree(target.pid).length);
  const before = treeContextSwitches(target.pid);
  let outcome: ConnectOutcome;
  try {
    outcome = await runLoad(target, load, settings, signal);
  } catch (err) {
    await strace.stop().catch(() => undefined); // detach even when the load failed
    throw err;
  }
  const after = treeContextSwitches(target.pid);
  const counts = await strace.stop();
  return {
    connections: outcome.succeeded,
    eagain: counts.acceptErrors,
    accepted: counts.acceptCalls - counts.acceptErrors,
    schedWakeups: null,
    switches: after.voluntary - before.voluntary,
  };
}

/**
 * Wasted wake-ups per connection. `loopEagains` is how many EAGAINs a loop that accepted ends with:
 * 1 for an accept loop that runs until the queue is empty (libuv before 1.5x), 0 for one that accepts
 * once per wake-up (libuv 1.52 in Node 24, nginx with multi_accept off). The experiment calibrates it
 * per server from its 1-worker sequential run, where no competitor can take a connection.
 */
export function wastedPerConnection(eagain: number, accepted: number, connections: number, loopEagains: number): number | null {
  if (connections === 0) return null;
  return Math.max(0, eagain - loopEagains * accepted) / connections;
}

/** The calibration: EAGAINs per connection of a 1-worker sequential run, rounded to a whole count per loop. */
export function loopEagainsFrom(oneWorkerSequential: HerdCell | undefined): number {
  const v = oneWorkerSequential?.eagainPerConnection;
  return v === null || v === undefined ? 0 : Math.min(1, Math.round(v));
}

export async function measureHerdCell(
  target: CellTarget,
  load: HerdLoad,
  settings: HerdSettings,
  tracer: TracerName | null,
  calibration: HerdCell | undefined,
  signal?: AbortSignal,
): Promise<HerdCell> {
  const cpuBefore = treeCpuMicros(target.pid);
  const plain = await runLoad(target, load, settings, signal);
  const cpu = treeCpuMicros(target.pid) - cpuBefore;
  const cell: HerdCell = {
    server: target.server,
    workers: target.workers,
    load,
    tracer,
    tracedConnections: 0,
    loopEagains: null,
    eagainPerConnection: null,
    wastedWakeupsPerConnection: null,
    acceptWakeupsPerConnection: null,
    schedWakeupsPerConnection: null,
    switchesPerConnection: null,
    connections: plain.succeeded,
    failed: plain.failed,
    cpuMicrosPerConnection: plain.succeeded > 0 ? cpu / plain.succeeded : null,
    p50Ms: percentile(plain.firstByteMs, 50),
    p99Ms: percentile(plain.firstByteMs, 99),
  };
  if (tracer === null) return cell;
  const t = await tracedRun(target, load, settings, tracer, signal);
  if (t.connections === 0) throw new HerdError(`${target.server} w${target.workers} ${load}: no connection succeeded in the traced run`, 'ELABHERD');
  const per = (n: number) => n / t.connections;
  // A 1-worker sequential cell calibrates itself: its own EAGAINs are its loop's.
  const loopEagains = calibration ? loopEagainsFrom(calibration) : target.workers === 1 && load === 'sequential' ? Math.min(1, Math.round(per(t.eagain))) : 0;
  const wasted = wastedPerConnection(t.eagain, t.accepted, t.connections, loopEagains);
  cell.loopEagains = loopEagains;
  cell.tracedConnections = t.connections;
  cell.eagainPerConnection = per(t.eagain);
  cell.wastedWakeupsPerConnection = wasted;
  cell.acceptWakeupsPerConnection = wasted === null ? null : 1 + wasted;
  cell.schedWakeupsPerConnection = t.schedWakeups === null ? null : per(t.schedWakeups);
  cell.switchesPerConnection = per(t.switches);
  return cell;
}
