// How connections reach workers. One interface, three modes (see DESIGN.md, "Dispatch"); each
// mode's file holds both halves, the supervisor's (open*) and the worker's (how a server listens).
import type { DispatchMode, ServeConfig } from '../config.ts';
import type { WorkerProcess } from '../supervisor/worker_process.ts';
import type { RawListenHandle } from './raw_listen_handle.ts';
import { openReuseport } from './reuseport.ts';
import { openShared } from './shared.ts';
import { openHandoff } from './handoff.ts';

/**
 * What a worker of a slot is given to serve a port. reuseport: the slot's own SO_REUSEPORT socket;
 * shared: the one socket every worker polls; both bound by the supervisor, which never polls them,
 * and listened on by the worker. handoff: nothing, connections come one by one.
 */
export type ListenShare =
  | { mode: 'reuseport'; handle: RawListenHandle }
  | { mode: 'shared'; handle: RawListenHandle }
  | { mode: 'handoff'; handle: undefined };

export interface Dispatch {
  readonly mode: DispatchMode;
  /** The address actually bound (port 0 resolved). */
  readonly host: string;
  readonly port: number;
  /** What the worker holding `slot` is given for this port. */
  shareFor(slot: number): ListenShare;
  /** A worker became ready: it may be given connections. */
  add(worker: WorkerProcess): void;
  /** A worker is draining or stuck: give it nothing more. */
  remove(worker: WorkerProcess): void;
  /** A worker's process is gone: what it was given and never took goes to another. */
  gone(worker: WorkerProcess): void;
  /** The listening sockets it holds (reuseport: one per slot, in slot order), for an upgrade to pass on. */
  readonly sockets: readonly RawListenHandle[];
  /** handoff: connections the supervisor holds that no worker has taken yet (for --metrics). */
  queued?(): number;
  /** Release everything the supervisor holds (at the very end of a stop). */
  close(): void;
}

/** Where a dispatch serves: herd's --host/--port, or a port an APP asked for with listen(). */
export interface ListenAddress {
  host: string;
  port: number;
  /** A socket already listening (systemd's, LISTEN_FDS; an upgrade's): adopted instead of binding host:port. */
  fd?: number;
  /** reuseport: the slots' sockets an upgrade passed, in slot order, adopted instead of binding. */
  fds?: number[];
}

export async function openDispatch(config: ServeConfig, at: ListenAddress = { host: config.host, port: config.port, fd: config.listenFd ?? undefined }): Promise<Dispatch> {
  switch (config.dispatch) {
    case 'reuseport':
      return openReuseport(at, config.workers);
    case 'shared':
      return openShared(at);
    case 'handoff':
      return openHandoff(config, at);
  }
}
