// How evenly a pool spreads its load over its workers. Best source: requests served per worker, from
// `herd status --json`. For servers that do not report it (node cluster, nginx) the fallback is each
// worker's CPU time over the run, which tracks requests closely for a uniform workload.
import type { Status } from '../supervisor/control_protocol.ts';
import { childPids, treeCpuMicros } from './process_cpu.ts';

export type ShareSource = 'requests' | 'cpu';

export interface WorkerShare {
  source: ShareSource;
  /** Requests (or CPU microseconds) per worker during the run, largest first. */
  perWorker: number[];
  /** The busiest worker's fraction of the total: 1/N is perfectly fair, 1 is one worker doing it all. */
  maxShare: number;
  /** Busiest over idlest; null when a worker did nothing at all. */
  maxOverMin: number | null;
}

export function shareOf(perWorker: number[], source: ShareSource): WorkerShare | null {
  if (perWorker.length < 2) return null;
  const sorted = [...perWorker].sort((a, b) => b - a);
  const total = sorted.reduce((a, b) => a + b, 0);
  if (total <= 0) return null;
  const min = sorted[sorted.length - 1];
  return { source, perWorker: sorted, maxShare: sorted[0] / total, maxOverMin: min > 0 ? sorted[0] / min : null };
}

/** Per-worker counters keyed by pid: a snapshot taken before and after a run. */
export type WorkerCounters = Map<number, number>;

/** Differences of the workers present in both snapshots (a worker respawned mid-run is left out). */
export function countersDelta(before: WorkerCounters, after: WorkerCounters): number[] {
  const out: number[] = [];
  for (const [pid, value] of after) {
    const start = before.get(pid);
    if (start !== undefined) out.push(value - start);
  }
  return out;
}

/** CPU microseconds of each direct child's tree, excluding `exceptPids` (helpers that are not workers). */
export function workerCpuSnapshot(rootPid: number, exceptPids: ReadonlySet<number> = new Set()): WorkerCounters {
  const snapshot: WorkerCounters = new Map();
  for (const pid of childPids(rootPid)) {
    if (!exceptPids.has(pid)) snapshot.set(pid, treeCpuMicros(pid));
  }
  return snapshot;
}

/** Requests served so far per worker pid, from a herd supervisor's status reply. */
export function requestsFromStatus(status: Status): WorkerCounters {
  return new Map(status.workers.map((w) => [w.pid, w.requests]));
}
