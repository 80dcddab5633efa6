// Every message that crosses the supervisor↔worker IPC channel, defined once.
import type { DispatchMode, ServeConfig } from '../config.ts';
import type { MetricsSnapshot } from '../metrics/snapshot.ts';
import type { HeaderRead } from '../transport/proxy_handoff.ts';

/** What a worker needs to start: the config plus who it is. */
export interface WorkerStart {
  t: 'start';
  id: number;
  config: ServeConfig;
  /** Unix socket of the log daemon, when access logging is on. */
  logSocket: string | null;
}

export type SupervisorMessage =
  /** With shared and reuseport dispatch the (slot's) listening socket travels with this message. */
  | WorkerStart
  /** handoff dispatch: one accepted connection for `port` travels with this message. */
  | { t: 'connection'; port: number; proxied?: HeaderRead }
  /**
   * The answer to a worker's `listen`: how its server gets this port's connections. shared: the
   * listening handle travels with this message; reuseport: the slot's own socket for it does;
   * handoff: connections come as `connection` messages. `error`: the port cannot be served.
   */
  | { t: 'listen-reply'; seq: number; mode: DispatchMode; host: string; port: number; error?: { message: string; code: string } }
  /** Stop accepting, finish in-flight requests, exit. */
  | { t: 'drain' }
  /** A stop began (--shutdown-delay): keep serving, but every response says Connection: close and --health-path 503. */
  | { t: 'closing' }
  | { t: 'stats-request'; seq: number }
  /** The heartbeat: a worker whose event loop runs answers `pong` at once. */
  | { t: 'ping'; seq: number };

export interface WorkerStats {
  pid: number;
  connections: number;
  requests: number;
  rss: number;
  /** CPU microseconds (user + system) since the worker started. */
  cpuMicros: number;
  /** Access-log records dropped because logd fell behind. */
  logDropped: number;
}

export type WorkerMessage =
  /** Listening (or ready for handed-off connections): the supervisor may route to it. */
  | { t: 'ready' }
  /** The worker cannot start (bad app, port in use...): a one-line message for the user. */
  | { t: 'fatal'; message: string; code: string }
  | { t: 'stats'; seq: number; stats: WorkerStats }
  /** The heartbeat's answer, with the worker's resident memory (for --max-memory). */
  | { t: 'pong'; seq: number; rss: number }
  /**
   * handoff: the reply to each `connection`, in the order they arrived. `taken`: the worker owns it
   * now, the supervisor closes its copy. `declined` (draining): the supervisor gives it to another.
   */
  | { t: 'handoff-reply'; port: number; taken: boolean }
  /** The APP called listen() for host:port (port 0: any; the supervisor picks one for all workers). */
  | { t: 'listen'; seq: number; host: string; port: number }
  /** handoff: connections handed to this worker that have since closed (batched). */
  | { t: 'closed'; count: number }
  /** A line for the supervisor's error log (access records dropped, say). */
  | { t: 'notice'; line: string }
  /** --metrics: the worker's counters since it started, every second and once more before it exits. */
  | { t: 'metrics'; snapshot: MetricsSnapshot };

/**
 * An upgrade's channel between the running supervisor and the new one it started (the new one's
 * process.send). The new one says `ready` once its workers are, or `failed` with its one line
 * before it exits; the running one answers `take-over`: the control socket, the pid file and
 * systemd's MAINPID are the new one's from then on, and the running one drains and exits.
 */
export type UpgradeMessage =
  | { t: 'ready' }
  | { t: 'failed'; message: string }
  | { t: 'take-over' };
