// Which threads of a running server the herd counters watch: every thread may call accept4 (only the
// event loops do), and the event loops are the threads whose wake-ups are the herd. A process model's
// loop is each process's main thread (tid = pid); the threads model names its loops `herd-loop-N`.
import fs from 'node:fs';
import { processTree } from '../process_cpu.ts';

export interface ServerThreads {
  all: number[];
  loops: number[];
}

function tasks(pid: number): Array<{ tid: number; comm: string }> {
  let names: string[];
  try {
    names = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return [];
  }
  const out: Array<{ tid: number; comm: string }> = [];
  for (const name of names) {
    try {
      out.push({ tid: Number(name), comm: fs.readFileSync(`/proc/${pid}/task/${name}/comm`, 'utf8').trim() });
    } catch {
      // the thread ended between listing and reading
    }
  }
  return out;
}

export const LOOP_THREAD_PREFIX = 'herd-loop-';

export function serverThreads(rootPid: number, threadLoops: boolean): ServerThreads {
  const all: number[] = [];
  const loops: number[] = [];
  for (const pid of processTree(rootPid)) {
    for (const task of tasks(pid)) {
      all.push(task.tid);
      if (threadLoops ? task.comm.startsWith(LOOP_THREAD_PREFIX) : task.tid === pid) loops.push(task.tid);
    }
  }
  return { all, loops };
}
