// The seed's thundering-herd claims, each checked against this run's own numbers. A claim the run has
// not the cells for says so instead of guessing.
import type { Finding } from '../results.ts';
import type { HerdCell, HerdExperiment, HerdLoad, HerdServer } from './herd_results.ts';

/** "Grows with N": at least half of each added worker wakes for each connection. */
const GROWS_PER_WORKER = 0.5;
/** "Stays flat": less than one more wake-up per connection from the fewest workers to the most. */
const FLAT = 1;

const f2 = (n: number) => n.toFixed(2);
const ms = (n: number | null) => (n === null ? '—' : `${n.toFixed(2)} ms`);

type Run = Pick<HerdExperiment, 'cells' | 'settings' | 'demonstrations' | 'threads' | 'crashes' | 'tracer'>;

/**
 * The wake-ups of a cell: the scheduler's count when perf counted it (it sees the workers that wake
 * and sleep again without returning from epoll_wait), else the accept count (strace).
 */
function wakeups(c: HerdCell): number | null {
  return c.schedWakeupsPerConnection ?? c.acceptWakeupsPerConnection;
}

function cellsOf(run: Run, server: HerdServer, load: HerdLoad): HerdCell[] {
  return run.cells.filter((c) => c.server === server && c.load === load && wakeups(c) !== null).sort((a, b) => a.workers - b.workers);
}

function measureName(run: Run): string {
  return run.cells.some((c) => c.schedWakeupsPerConnection !== null) ? 'scheduler wake-ups of the event loops' : 'accept wake-ups';
}

function eagainNote(cells: HerdCell[]): string {
  const high = cells[cells.length - 1];
  return high.wastedWakeupsPerConnection === null ? '' : ` (wasted wake-ups by the accept count: ${f2(high.wastedWakeupsPerConnection)} at ${high.workers})`;
}

function growsWithN(run: Run): Finding {
  const seed = 'N processes waiting in epoll_wait on one listening socket all wake for one connection; all but one get EAGAIN from accept (the thundering herd): wake-ups per connection grow with N.';
  const parts: string[] = [];
  let verdict: boolean | null = null;
  for (const server of ['herd-shared', 'cluster-none'] as const) {
    const cells = cellsOf(run, server, 'sequential');
    if (cells.length < 2) continue;
    const low = cells[0];
    const high = cells[cells.length - 1];
    const grows = wakeups(high)! - wakeups(low)! >= GROWS_PER_WORKER * (high.workers - low.workers);
    verdict = (verdict ?? true) && grows;
    parts.push(`${server}: ${f2(wakeups(low)!)} at ${low.workers} worker${low.workers === 1 ? '' : 's'}, ${f2(wakeups(high)!)} at ${high.workers}${eagainNote(cells)}`);
  }
  if (parts.length === 0) return { seed, thisRun: 'not measured: needs a shared-socket server (herd-shared or cluster-none) traced at two worker counts or more', agrees: null };
  return { seed, thisRun: `Sequential connections, ${measureName(run)} per connection: ${parts.join('; ')}.`, agrees: verdict };
}

function staysNearOne(run: Run): Finding {
  const seed = 'The cures — SO_REUSEPORT, a single acceptor handing connections out, EPOLLEXCLUSIVE — wake about one worker per connection at any N: the wake-ups per connection stay flat as N grows.';
  const parts: string[] = [];
  let verdict: boolean | null = null;
  for (const server of ['herd-reuseport', 'herd-handoff', 'nginx-exclusive', 'nginx-reuseport', 'threads'] as const) {
    const cells = cellsOf(run, server, 'sequential');
    if (cells.length < 2) continue;
    const low = cells[0];
    const high = cells[cells.length - 1];
    verdict = (verdict ?? true) && wakeups(high)! - wakeups(low)! < FLAT;
    parts.push(`${server} ${f2(wakeups(low)!)} at ${low.workers}, ${f2(wakeups(high)!)} at ${high.workers}`);
  }
  if (parts.length === 0) return { seed, thisRun: 'not measured: needs reuseport, handoff or nginx cells traced at two worker counts or more', agrees: null };
  return { seed, thisRun: `Sequential connections, ${measureName(run)} per connection: ${parts.join(', ')}.`, agrees: verdict };
}

function mutexLatency(run: Run): Finding {
  const seed = "nginx's accept mutex avoids the herd: only the worker holding the lock has the socket in its epoll, the others try again later (accept_mutex_delay, 500 ms). The issue asks what that costs in latency.";
  const mutexCells = cellsOf(run, 'nginx-accept-mutex', 'sequential');
  const most = Math.max(0, ...run.cells.filter((c) => c.server === 'nginx-accept-mutex').map((c) => c.workers));
  const parts: string[] = [];
  for (const load of run.settings.loads) {
    const mutex = run.cells.find((c) => c.server === 'nginx-accept-mutex' && c.load === load && c.workers === most);
    const exclusive = run.cells.find((c) => c.server === 'nginx-exclusive' && c.load === load && c.workers === most);
    if (!mutex || !exclusive || mutex.p99Ms === null || exclusive.p99Ms === null || mutex.p50Ms === null || exclusive.p50Ms === null) continue;
    const ratio = (a: number, b: number) => (b > 0 ? `${(a / b).toFixed(2)}×` : '—');
    parts.push(`${load}: p50 ${ms(mutex.p50Ms)} against ${ms(exclusive.p50Ms)} (${ratio(mutex.p50Ms, exclusive.p50Ms)}), p99 ${ms(mutex.p99Ms)} against ${ms(exclusive.p99Ms)} (${ratio(mutex.p99Ms, exclusive.p99Ms)})`);
  }
  if (parts.length === 0 || mutexCells.length < 2) return { seed, thisRun: 'not measured: needs nginx with accept_mutex on and off at the same worker counts', agrees: null };
  const low = mutexCells[0];
  const high = mutexCells[mutexCells.length - 1];
  const flat = wakeups(high)! - wakeups(low)! < FLAT;
  return {
    seed,
    thisRun: `With the mutex, ${measureName(run)} per sequential connection: ${f2(wakeups(low)!)} at ${low.workers}, ${f2(wakeups(high)!)} at ${high.workers}. Its latency at ${most} workers, against accept_mutex off (EPOLLEXCLUSIVE), connect to first byte — ${parts.join('; ')}.`,
    agrees: flat,
  };
}

function threadsMemory(run: Run): Finding {
  const seed = 'Threads share one address space, so N loops in one process cost less memory than N processes.';
  const parts: string[] = [];
  let verdict: boolean | null = null;
  for (const workers of run.settings.threadsWorkers) {
    const threads = run.threads.find((r) => r.kind === 'threads' && r.workers === workers && r.keepAlive);
    const pool = run.threads.find((r) => r.kind === 'pool' && r.workers === workers && r.keepAlive);
    if (!threads || !pool) continue;
    const t = threads.pssMiB ?? threads.rssMiB;
    const p = pool.pssMiB ?? pool.rssMiB;
    const what = threads.pssMiB !== null && pool.pssMiB !== null ? 'PSS' : 'RSS';
    verdict = (verdict ?? true) && t < p;
    parts.push(`${workers} loops: ${what} ${t.toFixed(0)} MiB against ${p.toFixed(0)} MiB for the pool's tree (${(t / p).toFixed(2)}×); CPU per request ${threads.cpuMicrosPerRequest?.toFixed(1) ?? '—'} µs against ${pool.cpuMicrosPerRequest?.toFixed(1) ?? '—'} µs (keep-alive)`);
  }
  if (parts.length === 0) return { seed, thisRun: 'not measured: needs the threads comparison', agrees: null };
  return { seed, thisRun: `${parts.join('; ')}.`, agrees: verdict };
}

function threadsIsolation(run: Run): Finding {
  const seed = 'Processes isolate failures: one crashing worker leaves the others serving. Threads share one process, and a fatal error in one takes them all.';
  const find = (kind: 'threads' | 'pool', crash: 'uncaught-exception' | 'sigsegv') => run.crashes.find((c) => c.kind === kind && c.crash === crash);
  const ts = find('threads', 'sigsegv');
  const ps = find('pool', 'sigsegv');
  const tu = find('threads', 'uncaught-exception');
  if (!ts || !ps) return { seed, thisRun: 'not measured: needs the crash runs', agrees: null };
  const say = (c: { processSurvived: boolean; servedLater: number }) => `${c.processSurvived ? 'the process lives' : 'the process is gone'}, ${c.servedLater}/20 connections served 1.5 s later`;
  const uncaught = tu ? `An uncaught exception in one of ${tu.workers} loops: ${say(tu)} (a worker_thread's exception ends that thread only). ` : '';
  return {
    seed,
    thisRun: `${uncaught}SIGSEGV in one loop of the threads model: ${say(ts)}; in one worker of the pool: ${say(ps)}.`,
    agrees: !ts.processSurvived && ts.servedLater === 0 && ps.servedLater > 0,
  };
}

function demonstrations(run: Run): Finding {
  const seed = 'Processes blocked in accept() on one socket: the kernel wakes one (WQ_FLAG_EXCLUSIVE). Sharing one epoll instance, with a sleep before accept: every one of them wakes.';
  const accept = run.demonstrations.find((d) => d.mode === 'blocking-accept');
  const sleep = run.demonstrations.find((d) => d.mode === 'shared-epoll-sleep');
  const own = run.demonstrations.find((d) => d.mode === 'own-epoll');
  const exclusive = run.demonstrations.find((d) => d.mode === 'own-epoll-exclusive');
  if (!accept || !sleep) return { seed, thisRun: 'not run: needs a C compiler (cc)', agrees: null };
  const extra = own && exclusive ? ` Each its own epoll instance: ${own.woke} returned from epoll_wait but ${own.roused} were scheduled; with EPOLLEXCLUSIVE ${exclusive.roused} scheduled.` : '';
  return {
    seed,
    thisRun: `${accept.processes} processes, one connection: blocking accept() woke ${accept.woke} (${accept.roused} scheduled); a shared epoll instance with the seed's sleep woke ${sleep.woke}, of which ${sleep.failedAccepts} got EAGAIN.${extra}`,
    agrees: accept.woke === 1 && sleep.woke === sleep.processes,
  };
}

export function summarizeHerd(run: Run): Finding[] {
  return [growsWithN(run), staysNearOne(run), mutexLatency(run), threadsMemory(run), threadsIsolation(run), demonstrations(run)];
}
