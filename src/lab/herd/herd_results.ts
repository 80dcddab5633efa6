// What the herd experiment produces; a part of results.json (LabResults.herd) and of both reports.
import type { Finding } from '../results.ts';

/** The servers of the experiment, each a different answer to "who wakes for a connection". */
export const HERD_SERVERS = [
  'herd-shared',
  'herd-reuseport',
  'herd-handoff',
  'cluster-none',
  'nginx-accept-mutex',
  'nginx-exclusive',
  'nginx-reuseport',
  'threads',
] as const;
export type HerdServer = (typeof HERD_SERVERS)[number];

export const HERD_LOADS = ['sequential', 'burst'] as const;
/** sequential: one client, one connection after another; burst: many connects at the same moment. */
export type HerdLoad = (typeof HERD_LOADS)[number];

export type TracerName = 'perf' | 'strace';

export interface HerdSettings {
  workers: number[];
  servers: HerdServer[];
  loads: HerdLoad[];
  /** Connections of one sequential run. */
  sequentialConnections: number;
  bursts: number;
  burstSize: number;
  /** Threads against processes: worker counts, and interleaved rounds of herd bench per count. */
  threadsWorkers: number[];
  threadsRounds: number;
  threadsSeconds: number;
}

export interface HerdCell {
  server: HerdServer;
  workers: number;
  load: HerdLoad;
  /** The traced run. */
  tracer: TracerName | null;
  tracedConnections: number;
  /** EAGAINs each accept loop ends with, subtracted from the count (calibrated at 1 worker; see herd_cells.ts). */
  loopEagains: number | null;
  /** accept4 EAGAIN returns per connection. */
  eagainPerConnection: number | null;
  /** Wake-ups that found nothing: EAGAIN beyond the one each accept loop ends with. Exact for sequential loads, a lower bound for bursts. */
  wastedWakeupsPerConnection: number | null;
  /** Accept loops woken per connection: 1 + wasted. */
  acceptWakeupsPerConnection: number | null;
  /** sched_wakeup of the event-loop threads per connection (perf only). */
  schedWakeupsPerConnection: number | null;
  /** Context switches of the event-loop threads per connection (perf: sched_switch; strace: /proc voluntary switches of the tree). */
  switchesPerConnection: number | null;
  /** The untraced run: server CPU from /proc and connect-to-first-byte latency. */
  connections: number;
  failed: number;
  cpuMicrosPerConnection: number | null;
  p50Ms: number | null;
  p99Ms: number | null;
}

export type DemoMode = 'blocking-accept' | 'shared-epoll' | 'shared-epoll-sleep' | 'own-epoll' | 'own-epoll-exclusive';

export interface Demonstration {
  mode: DemoMode;
  processes: number;
  /** Processes that returned from accept() or epoll_wait() for the one connection. */
  woke: number;
  /** Processes that were scheduled at all (their voluntary context switches rose), returning or not. */
  roused: number;
  accepted: number;
  failedAccepts: number;
}

export interface ThreadsRow {
  model: string;
  kind: 'threads' | 'pool';
  workers: number;
  keepAlive: boolean;
  rps: number;
  cpuMicrosPerRequest: number | null;
  /** Sum of VmRSS over the process tree (shared pages counted in every process). */
  rssMiB: number;
  /** Sum of Pss (shared pages divided among their users): the tree's real share of memory. */
  pssMiB: number | null;
}

export type CrashKind = 'uncaught-exception' | 'sigsegv';

export interface CrashOutcome {
  model: string;
  kind: 'threads' | 'pool';
  workers: number;
  crash: CrashKind;
  /** The server's root process (threads: the one process; pool: the supervisor) still runs. */
  processSurvived: boolean;
  /** Sequential connections from 4 clients during the 1.5 s after the crash request. */
  okAfterCrash: number;
  failedAfterCrash: number;
  /** 20 connections made 1 s after the crash: how many were served. */
  servedLater: number;
}

export interface HerdExperiment {
  settings: HerdSettings;
  tracer: TracerName | null;
  /** How the figures were counted, their overhead and their limits, printed in the report. */
  method: string[];
  cells: HerdCell[];
  demonstrations: Demonstration[];
  threads: ThreadsRow[];
  crashes: CrashOutcome[];
  notes: string[];
  summary: Finding[];
}
