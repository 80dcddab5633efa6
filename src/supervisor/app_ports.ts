// The ports an APP's own servers listen on, as node's cluster keeps them: the supervisor opens a
// port's dispatch when the first worker asks for it, and every later worker gets the same one.
// herd's --port is the main dispatch, opened at start; an app asking for it gets that one.
import type { ServeConfig } from '../config.ts';
import { openDispatch, type Dispatch, type ListenAddress } from '../dispatch/dispatch.ts';
import { HerdError } from '../errors.ts';
import type { WorkerProcess } from './worker_process.ts';

export class AppPorts {
  readonly #config: ServeConfig;
  readonly #main: Dispatch;
  /** By the address asked for (`host:port`, port 0 included: every worker's port 0 is one port). */
  readonly #opened = new Map<string, Promise<Dispatch>>();
  /** The same, once open. */
  readonly #open = new Map<string, { host: string; port: number; dispatch: Dispatch }>();
  #closed = false;

  /** Whether the cycle lets this worker take connections now (not draining, not gone). */
  readonly #accepting: (worker: WorkerProcess) => boolean;
  /** After an upgrade: where the old herd's socket for an address is, to adopt instead of binding. */
  readonly #inherited: (host: string, port: number) => ListenAddress;

  constructor(config: ServeConfig, main: Dispatch, accepting: (worker: WorkerProcess) => boolean, inherited: (host: string, port: number) => ListenAddress = (host, port) => ({ host, port })) {
    this.#config = config;
    this.#main = main;
    this.#accepting = accepting;
    this.#inherited = inherited;
  }

  /** The ports open now, with the address each was asked for, for an upgrade to pass on. */
  open(): Array<{ host: string; port: number; dispatch: Dispatch }> {
    return [...this.#open.values()];
  }

  /** Answers a worker's `listen`: the dispatch's share for it (shared: with the listening handle). */
  async answer(worker: WorkerProcess, seq: number, host: string, port: number): Promise<void> {
    let dispatch: Dispatch;
    try {
      dispatch = await this.#dispatchFor(host, port);
    } catch (err) {
      const e = err instanceof HerdError ? err : new HerdError(String(err));
      // Not herd's --port: the port is the APP's choice, so is the fix.
      const message = `the APP's listen() on ${host}:${port}: ${e.message.replace('pick another --port', 'change the port the APP listens on')}`;
      worker.send({ t: 'listen-reply', seq, mode: this.#config.dispatch, host, port, error: { message, code: e.code } });
      return;
    }
    // The main port is served at herd's --host, whatever address the app named for it.
    const share = dispatch.shareFor(worker.slot);
    worker.send({ t: 'listen-reply', seq, mode: share.mode, host: dispatch.host, port: dispatch.port }, share.handle);
    // handoff: the main port's workers are added when ready (the supervisor's rule); others now.
    if (dispatch !== this.#main && this.#accepting(worker)) dispatch.add(worker);
  }

  #dispatchFor(host: string, port: number): Promise<Dispatch> {
    // The port herd serves, whatever address the app names for it (0.0.0.0, ::, localhost).
    if (port === this.#main.port) return Promise.resolve(this.#main);
    if (this.#closed) return Promise.reject(new HerdError('herd is stopping', 'STOPPING'));
    const key = `${host}:${port}`;
    let opened = this.#opened.get(key);
    if (!opened) {
      opened = openDispatch(this.#config, this.#inherited(host, port));
      this.#opened.set(key, opened);
      // A port that could not be opened may be asked for again (by a respawned worker).
      opened.then((dispatch) => this.#open.set(key, { host, port, dispatch }), () => this.#opened.delete(key));
    }
    return opened;
  }

  /** A worker is draining or gone: give it nothing more on the app's other ports. */
  remove(worker: WorkerProcess): void {
    for (const opened of this.#opened.values()) void opened.then((d) => d.remove(worker), () => {});
  }

  /** A worker's process is gone. */
  gone(worker: WorkerProcess): void {
    for (const opened of this.#opened.values()) void opened.then((d) => d.gone(worker), () => {});
  }

  /** Stop accepting on the app's other ports (the main dispatch is the supervisor's to close). */
  close(): void {
    this.#closed = true;
    for (const opened of this.#opened.values()) void opened.then((d) => d.close(), () => {});
    this.#opened.clear();
    this.#open.clear();
  }
}
