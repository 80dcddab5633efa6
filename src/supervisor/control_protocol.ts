// The control socket's requests and replies: one JSON line each way.
import type { DispatchMode, EngineName, HandoffPolicy } from '../config.ts';

export type ControlCommand = 'status' | 'reload' | 'stop' | 'reopen' | 'upgrade';
export const CONTROL_COMMANDS: readonly ControlCommand[] = ['status', 'reload', 'stop', 'reopen', 'upgrade'];

export interface ControlRequest {
  command: ControlCommand;
}

export interface WorkerStatus {
  id: number;
  pid: number;
  state: string;
  uptimeSec: number;
  connections: number;
  requests: number;
  /** This worker's requests over all workers' requests (0..1). */
  share: number;
  restarts: number;
  rssBytes: number;
  /** CPU time over uptime, as ps(1) reports %CPU. */
  cpuPercent: number;
  logDropped: number;
  /** With --metrics: responses per duration bucket since the worker started (herd top's latency); else null. */
  durationCounts: number[] | null;
}

export interface Status {
  pid: number;
  listen: string;
  /** The APP module's absolute path; null for the built-in hello app. */
  app: string | null;
  workersWanted: number;
  /** The access log file, '-' for herd's stdout, null when off (what `herd logs` reads). */
  accessLog: string | null;
  /** The error log file, '-' for herd's stderr. */
  errorLog: string;
  /** Where --metrics serves, or null when it is off. */
  metricsUrl: string | null;
  dispatch: DispatchMode;
  handoff: HandoffPolicy;
  engine: EngineName;
  uptimeSec: number;
  reloading: boolean;
  /** How the last reload ended ('abandoned': a newcomer did not start; the old workers serve on). */
  lastReload: { outcome: 'done' | 'abandoned'; reason?: string; at: number } | null;
  /** The log daemon, when one runs (access log on, or an error-log file). */
  logd: { pid: number; restarts: number } | null;
  requests: number;
  workers: WorkerStatus[];
}

export type ControlReply =
  | { ok: true; status: Status }
  | { ok: true; message: string }
  | { ok: false; error: string };
