// How connections reach workers. One interface, three modes (see DESIGN.md, "Dispatch").
import type { DispatchMode, ServeConfig } from '../config.ts';
import type { WorkerProcess } from '../supervisor/worker_process.ts';
import { openReuseport } from './reuseport.ts';
import { openShared } from './shared.ts';
import { openHandoff } from './handoff.ts';

export interface Dispatch {
  readonly mode: DispatchMode;
  /** The address actually bound (port 0 resolved). */
  readonly host: string;
  readonly port: number;
  /** What a starting worker receives with its `start` message (shared: the listening socket). */
  handleForWorker(): unknown;
  /** A worker became ready: it may be given connections. */
  add(worker: WorkerProcess): void;
  /** A worker is draining or gone: give it nothing more. */
  remove(worker: WorkerProcess): void;
  /** handoff: connections the supervisor holds that no worker has taken yet (for --metrics). */
  queued?(): number;
  /** Release everything the supervisor holds (at the very end of a stop). */
  close(): void;
}

/** Where a dispatch serves: herd's --host/--port, or a port an APP asked for with listen(). */
export interface ListenAddress {
  host: string;
  port: number;
  /** A socket already listening (systemd's, LISTEN_FDS): adopted instead of binding host:port. */
  fd?: number;
}

export async function openDispatch(config: ServeConfig, at: ListenAddress = { host: config.host, port: config.port, fd: config.listenFd ?? undefined }): Promise<Dispatch> {
  switch (config.dispatch) {
    case 'reuseport':
      return openReuseport(at);
    case 'shared':
      return openShared(at);
    case 'handoff':
      return openHandoff(config, at);
  }
}
