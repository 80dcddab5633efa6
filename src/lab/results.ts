// What a lab run produces: results.json is exactly this, and results.md and report.html are views of it.
import type { ErrorKind } from '../bench/result.ts';
import type { AcceptQueueStats } from './accept_queue.ts';
import type { HerdExperiment } from './herd/herd_results.ts';
import type { MachineInfo } from './machine.ts';
import type { ServerModel } from './models.ts';
import type { WorkerShare } from './worker_share.ts';

export const LOAD_MODES = ['close', 'keep-alive'] as const;
/** close: a new connection per request, as webbench does; keep-alive: connections reused. */
export type LoadMode = (typeof LOAD_MODES)[number];

export interface TraceFigures {
  seconds: number;
  /** Connections the traced run opened. */
  connections: number;
  acceptCallsPerConnection: number;
  /** accept() that found nothing (EAGAIN): a process woken for a connection another one took. */
  failedAcceptsPerConnection: number;
  epollWaitsPerConnection: number;
}

export interface CellResult {
  model: string;
  mode: LoadMode;
  concurrency: number;
  durationSec: number;
  succeeded: number;
  failed: number;
  errors: Record<ErrorKind, number>;
  rps: number;
  pagesPerMin: number;
  p99Ms: number;
  /** utime + stime of the server's whole process tree during the run. */
  serverCpuMicros: number;
  cpuMicrosPerRequest: number | null;
  voluntarySwitchesPerRequest: number | null;
  involuntarySwitchesPerRequest: number | null;
  /** TcpExt ListenOverflows / ListenDrops deltas over the run (machine-wide). */
  listenOverflows: number;
  listenDrops: number;
  acceptQueue: AcceptQueueStats;
  workerShare: WorkerShare | null;
  trace: TraceFigures | null;
}

export interface Finding {
  /** What the seed (experiment 7) concluded. */
  seed: string;
  /** What this run's numbers say. */
  thisRun: string;
  /** null: this run has not the cells to tell. */
  agrees: boolean | null;
}

export interface LabSettings {
  concurrency: number[];
  modes: LoadMode[];
  durationSec: number;
  workers: number[];
  trace: boolean;
  host: string;
  port: number;
}

export interface LabResults {
  tool: 'herd lab';
  command: string;
  startedAt: string;
  finishedAt: string;
  /** false when the run was interrupted: the cells are those that finished. */
  complete: boolean;
  machine: MachineInfo;
  settings: LabSettings;
  models: ServerModel[];
  cells: CellResult[];
  /** Skipped peers, servers that did not start, cells that failed. */
  notes: string[];
  summary: Finding[];
  /** `--experiment herd` or `all`: the thundering-herd experiment. */
  herd?: HerdExperiment;
}

export function findCell(results: Pick<LabResults, 'cells'>, model: string, mode: LoadMode, concurrency: number): CellResult | undefined {
  return results.cells.find((c) => c.model === model && c.mode === mode && c.concurrency === concurrency);
}
