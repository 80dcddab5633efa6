// Processes as /proc shows them, read in one place for herd bench (--server-pid), herd lab and the
// bench scripts: a process's stat line, its tree of descendants, its CPU time and resident memory.
// CPU time of a tree is the figure every herd benchmark divides by requests: utime+stime of the
// root and every live descendant, plus cutime+cstime (children already reaped).
import fs from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond: number | undefined;

/** The kernel's USER_HZ (clock ticks per second in /proc/<pid>/stat), asked once. */
export function clockTicksPerSecond(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime, stime, cutime, cstime in clock ticks. */
  utime: number;
  stime: number;
  cutime: number;
  cstime: number;
}

/** Parses /proc/<pid>/stat text. The command name may hold spaces and parentheses, so split after the last ')'. */
export function parseProcStat(text: string): ProcStat {
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  if (open < 0 || close < open) throw new Error('not a /proc/<pid>/stat line');
  const pid = Number(text.slice(0, open).trim());
  // Fields after the name start at field 3 (state); utime is field 14.
  const f = text.slice(close + 2).split(' ');
  return { pid, ppid: Number(f[1]), utime: Number(f[11]), stime: Number(f[12]), cutime: Number(f[13]), cstime: Number(f[14]) };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseProcStat(fs.readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // exited between listing and reading
  }
}

/** Every live process: pid → stat. */
function allStats(): Map<number, ProcStat> {
  const stats = new Map<number, ProcStat>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const s = readStat(Number(name));
    if (s) stats.set(s.pid, s);
  }
  return stats;
}

/** The pids of root and all its live descendants. */
export function processTree(rootPid: number): number[] {
  const stats = allStats();
  const children = new Map<number, number[]>();
  for (const s of stats.values()) {
    const list = children.get(s.ppid);
    if (list) list.push(s.pid);
    else children.set(s.ppid, [s.pid]);
  }
  const out: number[] = [];
  const stack = [rootPid];
  while (stack.length > 0) {
    const pid = stack.pop()!;
    if (!stats.has(pid)) continue;
    out.push(pid);
    stack.push(...(children.get(pid) ?? []));
  }
  return out;
}

/** Clock ticks of CPU (user + system) a process has used, its reaped children included; 0 once it is gone. */
export function processCpuTicks(pid: number): number {
  const s = readStat(pid);
  return s ? s.utime + s.stime + s.cutime + s.cstime : 0;
}

/** CPU microseconds (user + system) consumed so far by a process tree, reaped children included. */
export function treeCpuMicros(rootPid: number): number {
  let ticks = 0;
  for (const pid of processTree(rootPid)) ticks += processCpuTicks(pid);
  return (ticks * 1e6) / clockTicksPerSecond();
}

/** A process's resident memory in bytes (VmRSS); 0 for a zombie or a process that is gone. */
export function residentBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, 'latin1');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(status);
    return match ? Number(match[1]) * 1024 : 0; // a zombie has no VmRSS line
  } catch {
    return 0; // exited while being read
  }
}

/** The direct children of a process (the workers of a supervisor, a cluster primary or an nginx master). */
export function childPids(parentPid: number): number[] {
  const out: number[] = [];
  for (const s of allStats().values()) if (s.ppid === parentPid) out.push(s.pid);
  return out.sort((a, b) => a - b);
}
