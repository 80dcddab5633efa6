// `herd lab --experiment herd`: the thundering herd measured. Every server of HERD_SERVERS at every
// worker count under both loads (herd_cells.ts), the seed's two C demonstrations, and the threads
// model against the process pool; then the findings.
import fs from 'node:fs';
import { HerdError } from '../../errors.ts';
import { perfAvailable } from '../perf_counter.ts';
import { Progress } from '../progress.ts';
import { startServer, type RunningServer, type ServerPlace } from '../running_server.ts';
import { straceAvailable } from '../syscall_trace.ts';
import { connectBursts } from './connect_load.ts';
import { runDemonstrations } from './demonstrations.ts';
import { measureHerdCell } from './herd_cells.ts';
import type { HerdCell, HerdExperiment, HerdSettings, TracerName } from './herd_results.ts';
import { herdModel } from './herd_servers.ts';
import { summarizeHerd } from './herd_summary.ts';
import { compareThreads } from './threads_comparison.ts';

/** Planning figures for the estimate: server start per worker, and per traced+untraced load. */
const START_SEC_PER_WORKER = 0.35;
const LOAD_SEC = 1.5;

export function herdPlannedSeconds(settings: HerdSettings): number {
  const workers = settings.workers.reduce((a, b) => a + b, 0);
  const starts = settings.servers.length * (settings.workers.length + workers * START_SEC_PER_WORKER);
  const loads = settings.servers.length * settings.workers.length * settings.loads.length * LOAD_SEC;
  const threads = settings.threadsWorkers.length * settings.threadsRounds * 2 * 2 * (settings.threadsSeconds + 0.7) + 20;
  return starts + loads + threads + 5;
}

/** Progress steps: every cell, each threads comparison, each crash run. */
export function herdStepCount(settings: HerdSettings): number {
  return settings.servers.length * settings.workers.length * settings.loads.length + settings.threadsWorkers.length + 4;
}

/**
 * strace attaches to the servers, which are the lab's children, not strace's: as root that is always
 * allowed, otherwise only where Yama's ptrace_scope is 0 (or Yama is absent).
 */
function straceUsable(): boolean {
  if (!straceAvailable()) return false;
  if (process.getuid?.() === 0) return true;
  try {
    return fs.readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8').trim() === '0';
  } catch {
    return true;
  }
}

export function chooseTracer(): TracerName | null {
  if (perfAvailable()) return 'perf';
  if (straceUsable()) return 'strace';
  return null;
}

export function methodText(tracer: TracerName | null): string[] {
  const common = [
    'Each cell runs its load twice: untraced (server CPU µs per connection as utime+stime of the whole process tree from /proc; connect-to-first-byte latency measured by the client) and traced (the counts below). Both loads come from the lab process itself, one request per connection with `Connection: close`.',
    'Wasted wake-ups per connection (accept count): accept4 calls that returned EAGAIN, minus the EAGAIN an accept loop ends with, divided by connections. How many EAGAINs a loop ends with is calibrated per server from its 1-worker sequential run, where no competitor can take a connection (0 for libuv 1.52 in Node 24, which accepts once per wake-up, and for nginx, multi_accept off; 1 for an accept loop that drains the queue). For sequential connections this is exact; in bursts one loop may take several connections, so fewer EAGAINs are subtracted than loops ran: wasted wake-ups in bursts are a lower bound. Accept wake-ups per connection = 1 + wasted.',
    'The accept count sees only the woken workers that reach accept(). A worker woken in epoll_wait re-checks the socket before returning; when the winner has already taken the connection (likely on 2 cores: at most two of N run at once) it sleeps again inside the kernel without returning, and never calls accept. The scheduler count (sched_wakeup of the event-loop threads) sees those too, so it is the measure of the herd here; it also counts the loops\' other wake-ups (the request\'s bytes, the close), which is why it is above 1 even for one worker. epoll_wait return counts are not used, for the same reason.',
  ];
  if (tracer === 'perf') {
    return [
      ...common,
      'Counted by the kernel with `perf stat -a` on the tracepoints syscalls:sys_exit_accept4 (filtered to ret == -EAGAIN, and to ret >= 0), sched:sched_wakeup and sched:sched_switch, each filtered in the kernel to the server\'s own threads (accept4: any thread of its tree; wake-ups and switches: its event-loop threads — each process\'s main thread, or the threads model\'s loop threads). Counting is switched on and off through perf\'s control pipe exactly around the traced load.',
      'Overhead: counting tracepoints costs a filter evaluation per event on the machine (no sampling, no ptrace, no copies to user space); the server runs at nearly full speed. Limits: sched_wakeup counts every wake-up of a loop thread (the connection\'s data, timers, IPC), not only those for the listening socket; threads that start during a run are not watched.',
    ];
  }
  if (tracer === 'strace') {
    return [
      ...common,
      'Counted with `strace -f -c` attached to every process of the server (perf was not usable here): accept/accept4 calls and their errors (EAGAIN). Context switches come from /proc (voluntary, whole tree); scheduler wake-ups are not counted.',
      'Overhead: strace stops the traced process at every traced syscall (ptrace), slowing it many times over, which changes timing — who wins the race for a connection — though not the count of accept calls each wake-up makes.',
    ];
  }
  return [...common, 'Neither perf nor strace is usable here: only CPU and latency were measured; install perf (linux-perf) and run as root to count the herd.'];
}

const HERD_ONLY_CONNECT = 20;

export async function runHerdExperiment(settings: HerdSettings, place: ServerPlace, signal: AbortSignal, progress?: Progress): Promise<HerdExperiment> {
  const tracer = chooseTracer();
  const notes: string[] = [];
  if (tracer === null) notes.push('herd: wake-ups not counted: neither perf (needs root and the syscalls/sched tracepoints) nor strace is usable');
  else if (tracer === 'strace') notes.push('herd: counted with strace (perf is not usable here: it needs root, or perf_event_paranoid <= -1, and tracefs)');
  const cells: HerdCell[] = [];
  const started = Date.now();
  const total = herdStepCount(settings);
  let done = 0;
  const secondsLeft = (steps = 1) => {
    done += steps;
    return ((Date.now() - started) / 1000 / done) * Math.max(0, total - done);
  };
  for (const server of settings.servers) {
    for (const workers of settings.workers) {
      if (signal.aborted) break;
      const model = herdModel(server, workers);
      progress?.start(`herd ${model.id}`);
      let running: RunningServer;
      try {
        running = await startServer(model, place);
      } catch (err) {
        if (!(err instanceof HerdError)) throw err;
        notes.push(`herd: ${model.id} skipped, ${err.message}`);
        progress?.skip(settings.loads.length, secondsLeft(settings.loads.length));
        continue;
      }
      try {
        // Warm-up: the JIT and every worker's first accept, outside any measurement.
        await connectBursts(place.host, place.port, 1, HERD_ONLY_CONNECT, 20, signal);
        for (const load of settings.loads) {
          if (signal.aborted) break;
          const target = { server, workers, pid: running.pid, host: place.host, port: place.port };
          try {
            const calibration = cells.find((c) => c.server === server && c.workers === 1 && c.load === 'sequential');
            const cell = await measureHerdCell(target, load, settings, tracer, calibration, signal);
            cells.push(cell);
            progress?.finish(`herd ${model.id} ${load}`, cell.wastedWakeupsPerConnection === null ? `${cell.connections} connections` : `${cell.schedWakeupsPerConnection?.toFixed(2) ?? '—'} wake-ups and ${cell.wastedWakeupsPerConnection.toFixed(2)} wasted accepts per connection`, secondsLeft());
          } catch (err) {
            if (signal.aborted || !(err instanceof HerdError)) throw err;
            notes.push(`herd: ${model.id} ${load}: ${err.message}`);
            progress?.finish(`herd ${model.id} ${load}`, `failed: ${err.message}`, secondsLeft());
          }
        }
      } finally {
        await running.stop();
      }
    }
  }
  const demos = signal.aborted ? { demonstrations: [], notes: [] } : await runDemonstrations(4, place.workDir);
  notes.push(...demos.notes);
  const threads = signal.aborted ? { rows: [], crashes: [], notes: [] } : await compareThreads(settings, place, signal, progress);
  notes.push(...threads.notes);
  const experiment: HerdExperiment = {
    settings,
    tracer,
    method: methodText(tracer),
    cells,
    demonstrations: demos.demonstrations,
    threads: threads.rows,
    crashes: threads.crashes,
    notes,
    summary: [],
  };
  experiment.summary = summarizeHerd(experiment);
  return experiment;
}
