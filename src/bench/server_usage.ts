// What the server spent, read from /proc around a run: CPU time (utime+stime, reaped children's
// cutime+cstime included) of each given process and all its descendants, and their resident memory.
// The server's CPU per request is the figure that stays put on a shared machine, where requests/s
// moves with whatever else runs.
import fs from 'node:fs';
import { HerdError, UsageError } from '../errors.ts';
import { clockTicksPerSecond, processCpuTicks, processTree, residentBytes } from '../proc/process_stat.ts';

export interface ServerSample {
  /** CPU microseconds the trees have used so far. */
  cpuMicros: number;
  /** Resident memory of every process in the trees now, in bytes. */
  rssBytes: number;
  /** How many processes the trees held. */
  processes: number;
}

/** The server's share of one run: what `--server-pid` adds to a result. */
export interface ServerUsage {
  pids: number[];
  cpuMicros: number;
  /** cpuMicros over the requests that succeeded; NaN with none. */
  cpuMicrosPerRequest: number;
  /** RSS at the end of the run. */
  rssBytes: number;
  processes: number;
}

/** Fails with a user's line unless every pid names a live process this user can read. */
export function checkServerPids(pids: readonly number[]): void {
  if (!fs.existsSync('/proc/self/stat')) throw new HerdError('--server-pid reads /proc, which this system does not have (Linux only)');
  for (const pid of pids) {
    if (!fs.existsSync(`/proc/${pid}/stat`)) throw new UsageError(`--server-pid ${pid}: no such process`);
  }
}

/** One reading of the process trees rooted at `pids` (a process in two trees counts once). */
export function sampleServer(pids: readonly number[]): ServerSample {
  const members = new Set<number>();
  for (const root of pids) for (const pid of processTree(root)) members.add(pid);
  let ticks = 0;
  let rssBytes = 0;
  for (const pid of members) {
    ticks += processCpuTicks(pid);
    rssBytes += residentBytes(pid);
  }
  return { cpuMicros: (ticks * 1e6) / clockTicksPerSecond(), rssBytes, processes: members.size };
}

/**
 * Runs `load` between two readings of the trees and returns its result with the server's share.
 * `settleMs` waits after the load before the second reading (a log daemon's last batch, say).
 */
export async function withServerUsage<T>(pids: readonly number[], load: () => Promise<T>, succeeded: (result: T) => number, settleMs = 0): Promise<{ result: T; server: ServerUsage }> {
  const before = sampleServer(pids);
  const result = await load();
  if (settleMs > 0) await new Promise((resolve) => setTimeout(resolve, settleMs));
  const after = sampleServer(pids);
  // A tree that is gone took its CPU time with it: a figure from it would be nonsense.
  if (after.processes === 0) throw new HerdError(`--server-pid ${pids.join(',')}: the server exited during the run, so its CPU cannot be read`);
  const cpuMicros = after.cpuMicros - before.cpuMicros;
  const requests = succeeded(result);
  return {
    result,
    server: {
      pids: [...pids],
      cpuMicros,
      cpuMicrosPerRequest: requests > 0 ? cpuMicros / requests : NaN,
      rssBytes: after.rssBytes,
      processes: after.processes,
    },
  };
}
