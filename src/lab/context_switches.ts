// Voluntary and involuntary context switches of a process tree, every thread counted:
// /proc/<pid>/status counts only the thread it names, so each /proc/<pid>/task/<tid>/status is read.
// Threads and processes that exit during a run take their counts with them (a small undercount).
import fs from 'node:fs';
import { processTree } from './process_cpu.ts';

export interface ContextSwitches {
  /** The thread blocked (waited for I/O, a lock, a sleep). */
  voluntary: number;
  /** The scheduler took the CPU away: contention for cores. */
  involuntary: number;
}

/** Reads the two counters from a /proc/<pid>/status (or task status) text. */
export function parseContextSwitches(statusText: string): ContextSwitches {
  const voluntary = /^voluntary_ctxt_switches:\s*(\d+)/m.exec(statusText);
  const involuntary = /^nonvoluntary_ctxt_switches:\s*(\d+)/m.exec(statusText);
  if (!voluntary || !involuntary) throw new Error('no context-switch counters in this status text');
  return { voluntary: Number(voluntary[1]), involuntary: Number(involuntary[1]) };
}

/** Sum over every thread of one process. */
export function processContextSwitches(pid: number): ContextSwitches {
  const total = { voluntary: 0, involuntary: 0 };
  let tids: string[];
  try {
    tids = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return total; // exited
  }
  for (const tid of tids) {
    try {
      const c = parseContextSwitches(fs.readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8'));
      total.voluntary += c.voluntary;
      total.involuntary += c.involuntary;
    } catch {
      // the thread exited between listing and reading
    }
  }
  return total;
}

/** Sum over every thread of a process and its live descendants. */
export function treeContextSwitches(rootPid: number): ContextSwitches {
  const total = { voluntary: 0, involuntary: 0 };
  for (const pid of processTree(rootPid)) {
    const c = processContextSwitches(pid);
    total.voluntary += c.voluntary;
    total.involuntary += c.involuntary;
  }
  return total;
}
