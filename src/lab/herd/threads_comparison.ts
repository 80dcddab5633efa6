// Threads against processes: the threads model and herd's process pool (reuseport, fast engine, the
// same crash app) side by side at each worker count, loaded by herd bench in interleaved rounds (both
// listen at once, on two ports); then each is crashed on purpose while four clients keep connecting.
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HerdError } from '../../errors.ts';
import { runBenchProcess } from '../bench_process.ts';
import type { ServerModel } from '../models.ts';
import { freePort } from '../ports.ts';
import { treeCpuMicros } from '../process_cpu.ts';
import type { Progress } from '../progress.ts';
import { startServer, type RunningServer, type ServerPlace } from '../running_server.ts';
import { siblingModule } from '../../source_module.ts';
import { oneConnection } from './connect_load.ts';
import type { CrashKind, CrashOutcome, HerdSettings, ThreadsRow } from './herd_results.ts';
import { treeMemoryMiB } from './tree_memory.ts';

export const CRASH_APP = fileURLToPath(siblingModule('../servers/crash_app', import.meta.url));
const BENCH_CLIENTS = 20;
const CRASH_WORKERS = 4;
const CRASH_WINDOW_MS = 1500;
const LATER_CONNECTIONS = 20;

function models(workers: number): ServerModel[] {
  return [
    { id: `threads-w${workers}`, kind: 'threads', engine: 'fast', dispatch: null, workers },
    { id: `pool-reuseport-fast-w${workers}`, kind: 'pool', engine: 'fast', dispatch: 'reuseport', workers },
  ];
}

const kindOf = (model: ServerModel): 'threads' | 'pool' => (model.kind === 'threads' ? 'threads' : 'pool');

async function start(model: ServerModel, place: ServerPlace, port: number): Promise<RunningServer> {
  return startServer(model, { ...place, port, app: CRASH_APP });
}

/** Rounds of herd bench against each server in turn (A B B A …); the rows are the sums over the rounds. */
async function benchPair(workers: number, settings: HerdSettings, place: ServerPlace, signal: AbortSignal): Promise<ThreadsRow[]> {
  const pair = models(workers);
  const ports = [place.port, await freePort(place.host)];
  const running: RunningServer[] = [];
  try {
    for (let i = 0; i < pair.length; i++) running.push(await start(pair[i], place, ports[i]));
    const rows: ThreadsRow[] = [];
    for (const keepAlive of [false, true]) {
      const totals = running.map(() => ({ requests: 0, seconds: 0, cpu: 0 }));
      for (let round = 0; round < settings.threadsRounds && !signal.aborted; round++) {
        // A B, then B A: neither always runs first after the other has warmed the caches.
        const order = round % 2 === 0 ? [0, 1] : [1, 0];
        for (const i of order) {
          const before = treeCpuMicros(running[i].pid);
          const result = await runBenchProcess({ url: running[i].url, connections: BENCH_CLIENTS, seconds: settings.threadsSeconds, keepAlive }, signal);
          totals[i].cpu += treeCpuMicros(running[i].pid) - before;
          totals[i].requests += result.requests.succeeded;
          totals[i].seconds += result.durationSec;
        }
      }
      for (let i = 0; i < running.length; i++) {
        const memory = treeMemoryMiB(running[i].pid);
        const t = totals[i];
        rows.push({
          model: pair[i].id,
          kind: kindOf(pair[i]),
          workers,
          keepAlive,
          rps: t.seconds > 0 ? t.requests / t.seconds : 0,
          cpuMicrosPerRequest: t.requests > 0 ? t.cpu / t.requests : null,
          rssMiB: memory.rssMiB,
          pssMiB: memory.pssMiB,
        });
      }
    }
    return rows;
  } finally {
    await Promise.all(running.map((r) => r.stop()));
  }
}

/** Still running: not gone, and not a zombie waiting to be reaped. */
function alive(pid: number): boolean {
  try {
    return !/^State:\s*Z/m.test(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  } catch {
    return false;
  }
}

/** Four clients connect one after another for CRASH_WINDOW_MS after the crash request; count what they got. */
async function crashOne(model: ServerModel, crash: CrashKind, place: ServerPlace): Promise<CrashOutcome> {
  const server = await start(model, place, place.port);
  try {
    await oneConnection(place.host, place.port, crash === 'sigsegv' ? '/segv' : '/crash');
    const until = Date.now() + CRASH_WINDOW_MS;
    let ok = 0;
    let failed = 0;
    await Promise.all(
      Array.from({ length: 4 }, async () => {
        while (Date.now() < until) {
          if ((await oneConnection(place.host, place.port)) === null) {
            failed++;
            await new Promise((resolve) => setTimeout(resolve, 10));
          } else ok++;
        }
      }),
    );
    const results = await Promise.all(Array.from({ length: LATER_CONNECTIONS }, () => oneConnection(place.host, place.port)));
    return {
      model: model.id,
      kind: kindOf(model),
      workers: model.workers,
      crash,
      processSurvived: alive(server.pid),
      okAfterCrash: ok,
      failedAfterCrash: failed,
      servedLater: results.filter((r) => r !== null).length,
    };
  } finally {
    await server.stop();
  }
}

export async function compareThreads(
  settings: HerdSettings,
  place: ServerPlace,
  signal: AbortSignal,
  progress?: Progress,
): Promise<{ rows: ThreadsRow[]; crashes: CrashOutcome[]; notes: string[] }> {
  const rows: ThreadsRow[] = [];
  const crashes: CrashOutcome[] = [];
  const notes: string[] = [];
  for (const workers of settings.threadsWorkers) {
    if (signal.aborted) break;
    progress?.start(`threads against processes, ${workers} workers`);
    try {
      rows.push(...(await benchPair(workers, settings, place, signal)));
      progress?.finish(`threads against processes, ${workers} workers`, 'done', 0);
    } catch (err) {
      if (signal.aborted || !(err instanceof HerdError)) throw err;
      notes.push(`herd: threads against processes at ${workers} workers: ${err.message}`);
    }
  }
  for (const model of models(CRASH_WORKERS)) {
    for (const crash of ['uncaught-exception', 'sigsegv'] as const) {
      if (signal.aborted) break;
      progress?.start(`crash ${model.id} ${crash}`);
      try {
        crashes.push(await crashOne(model, crash, place));
        progress?.finish(`crash ${model.id} ${crash}`, 'done', 0);
      } catch (err) {
        if (signal.aborted || !(err instanceof HerdError)) throw err;
        notes.push(`herd: crash ${crash} in ${model.id}: ${err.message}`);
      }
    }
  }
  return { rows, crashes, notes };
}
