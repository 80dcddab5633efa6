// Memory of a process tree from /proc: the sum of RSS (each process's resident pages, shared ones
// counted in every process that maps them) and of PSS (shared pages divided among their users, so
// a pool's N copies of node's code count once) — the fair figure for threads against processes.
import fs from 'node:fs';
import { processTree } from '../process_cpu.ts';

function kib(text: string, field: string): number | null {
  const m = new RegExp(`^${field}:\\s*(\\d+) kB`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export function treeMemoryMiB(rootPid: number): { rssMiB: number; pssMiB: number | null } {
  let rss = 0;
  let pss: number | null = 0;
  for (const pid of processTree(rootPid)) {
    try {
      rss += kib(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), 'VmRSS') ?? 0;
    } catch {
      continue; // exited
    }
    try {
      const p = kib(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'), 'Pss');
      pss = pss === null || p === null ? null : pss + p;
    } catch {
      pss = null; // smaps_rollup needs Linux 4.14 and the right to read it
    }
  }
  return { rssMiB: rss / 1024, pssMiB: pss === null ? null : pss / 1024 };
}
