// One worker child process as the supervisor sees it: its life cycle, its output, its counters.
import { fork, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { HerdError } from '../errors.ts';
import { siblingModule } from '../source_module.ts';
import type { MetricsSnapshot } from '../metrics/snapshot.ts';
import type { SupervisorMessage, WorkerMessage, WorkerStart, WorkerStats } from './messages.ts';

const WORKER_ENTRY = fileURLToPath(siblingModule('../worker/main', import.meta.url));

export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited';

export interface WorkerExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class WorkerProcess {
  /** The slot (1..N) this worker fills; a respawned or reloaded worker takes the same id. */
  readonly id: number;
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  /** When it became ready; undefined while starting (and forever, if it died starting). */
  readyAt: number | undefined;
  state: WorkerState = 'starting';
  /** The supervisor asked it to drain: its exit is expected, not a crash. */
  drainRequested = false;
  /** handoff: connections sent to this worker, and those it reported closed. */
  handedOff = 0;
  closedReported = 0;
  /** The worker's own explanation when it could not start or died of an uncaught exception. */
  fatal: { message: string; code: string } | undefined;
  readonly ready: Promise<void>;
  /** Where the worker's notices go (the supervisor's error log). */
  onNotice: ((line: string) => void) | undefined;
  /** --metrics: the worker's latest report. */
  onMetrics: ((snapshot: MetricsSnapshot) => void) | undefined;
  /** handoff, per port: the worker's reply to the oldest connection it has not answered for yet. */
  readonly onHandoffReply = new Map<number, (taken: boolean) => void>();
  /** The APP in this worker asked to listen on host:port; the supervisor answers with `listen-reply`. */
  onListen: ((seq: number, host: string, port: number) => void) | undefined;
  readonly exited: Promise<WorkerExit>;

  #statsWaiters = new Map<number, (stats: WorkerStats) => void>();
  #seq = 0;

  constructor(id: number, start: Omit<WorkerStart, 'id' | 't'>, handle: unknown) {
    this.id = id;
    this.child = fork(WORKER_ENTRY, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // PORT: where herd serves, so an APP that reads it (as on every Node host) listens there.
      env: { ...process.env, HERD_WORKER_ID: String(id), PORT: String(start.config.port) },
      serialization: 'json',
    });
    forwardLines(this.child.stdout!, process.stdout, `[worker ${id}] `);
    forwardLines(this.child.stderr!, process.stderr, `[worker ${id}] `);

    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.state = 'exited';
        resolve({ code, signal });
      });
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: WorkerMessage) => {
        switch (message.t) {
          case 'ready':
            if (this.state === 'starting') this.state = 'ready';
            this.readyAt = Date.now();
            resolve();
            break;
          case 'fatal':
            this.fatal = { message: message.message, code: message.code };
            break;
          case 'stats':
            this.#statsWaiters.get(message.seq)?.(message.stats);
            this.#statsWaiters.delete(message.seq);
            break;
          case 'handoff-reply':
            this.onHandoffReply.get(message.port)?.(message.taken);
            break;
          case 'listen':
            this.onListen?.(message.seq, message.host, message.port);
            break;
          case 'closed':
            this.closedReported += message.count;
            break;
          case 'notice':
            this.onNotice?.(message.line);
            break;
          case 'metrics':
            this.onMetrics?.(message.snapshot);
            break;
        }
      });
      void this.exited.then(({ code, signal }) => {
        const why = this.fatal?.message ?? `worker ${id} exited during start-up (${signal ?? `code ${code}`})`;
        reject(new HerdError(why, this.fatal?.code ?? 'WORKER_START'));
      });
    });
    // A rejected `ready` nobody awaits any more (the worker died later) must not be an unhandled rejection.
    this.ready.catch(() => {});
    const message: WorkerStart = { t: 'start', id, ...start };
    this.child.send(message, handle as never);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** handoff: connections this worker holds right now, as far as the supervisor knows. */
  get openHandedOff(): number {
    return this.handedOff - this.closedReported;
  }

  /**
   * False only when the worker's channel is gone. (child.send's own false means "queued behind
   * other messages", which is normal when handles are in flight: node sends one handle at a time.)
   */
  send(message: SupervisorMessage, handle?: unknown, onSent?: (err: Error | null) => void): boolean {
    if (!this.child.connected) return false;
    this.child.send(message, handle as never, onSent ?? noop);
    return true;
  }

  /** Asks for counters; undefined when the worker does not answer in time (busy or dying). */
  stats(timeoutMs = 1000): Promise<WorkerStats | undefined> {
    const seq = ++this.#seq;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.#statsWaiters.delete(seq);
        resolve(undefined);
      }, timeoutMs);
      this.#statsWaiters.set(seq, (stats) => {
        clearTimeout(timer);
        resolve(stats);
      });
      if (!this.send({ t: 'stats-request', seq })) {
        clearTimeout(timer);
        this.#statsWaiters.delete(seq);
        resolve(undefined);
      }
    });
  }

  /** Graceful stop; resolves on exit. After graceMs the worker is killed. */
  async drain(graceMs: number): Promise<WorkerExit> {
    this.drainRequested = true;
    if (this.state !== 'exited') {
      this.state = 'draining';
      if (!this.send({ t: 'drain' })) this.kill();
    }
    const timer = setTimeout(() => this.kill(), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  kill(): void {
    if (this.state !== 'exited') this.child.kill('SIGKILL');
  }
}

function noop(): void {}

function forwardLines(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, prefix: string): void {
  readline.createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(prefix + line + '\n'));
}
