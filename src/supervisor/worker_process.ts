// One worker child process as the supervisor sees it: it turns what the process does (spawned,
// ready, exited, stops answering its heartbeat) into events of the supervisor's queue, and
// carries its output, its counters and the dispatch's messages. Its life-cycle state is the
// cycle's (pool_cycle.ts), not kept here.
import { fork, type ChildProcess } from 'node:child_process';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { siblingModule } from '../source_module.ts';
import type { MetricsSnapshot } from '../metrics/snapshot.ts';
import type { ListenShare } from '../dispatch/dispatch.ts';
import type { CycleEvent, PoolWorker } from './pool_cycle.ts';
import type { SupervisorMessage, WorkerMessage, WorkerStart, WorkerStats } from './messages.ts';
import { sendWithHandle, type SendableHandle } from '../dispatch/raw_listen_handle.ts';

const WORKER_ENTRY = fileURLToPath(siblingModule('../worker/main', import.meta.url));

/** How often a ready worker is asked to answer. */
export const HEARTBEAT_EVERY_MS = 500;
/**
 * No answer for this long and the worker's event loop is called stuck (or it is stopped): half of
 * --unresponsive-timeout, from 1 to 5 s. Long enough that a busy worker on a loaded machine, or a
 * handler that computes for a second, is not taken out of rotation (or, with reuseport and shared,
 * replaced) for it; what happens after is --unresponsive-timeout's.
 */
export function heartbeatMissedMs(unresponsiveTimeoutMs: number): number {
  return Math.max(1000, Math.min(5000, (unresponsiveTimeoutMs || 10_000) / 2));
}

export class WorkerProcess implements PoolWorker {
  /** The slot (1..N) this worker fills; a respawned or reloaded worker takes the same one. */
  readonly slot: number;
  readonly child: ChildProcess;
  readonly startedAt = Date.now();
  /** The worker's own explanation when it could not start or died of an uncaught exception. */
  fatal: { message: string; code: string } | undefined;
  /** Where the worker's notices go (the supervisor's error log). */
  onNotice: ((line: string) => void) | undefined;
  /** --metrics: the worker's latest report. */
  onMetrics: ((snapshot: MetricsSnapshot) => void) | undefined;
  /** handoff, per port: where the worker's reply to the oldest connection it has not answered for goes. */
  readonly onHandoffReply = new Map<number, (taken: boolean) => void>();
  /** handoff: handed-off connections that have since closed (batched), for each port's dispatch. */
  readonly onClosed = new Set<(count: number) => void>();
  /** The APP in this worker asked to listen on host:port; the supervisor answers with `listen-reply`. */
  onListen: ((seq: number, host: string, port: number) => void) | undefined;

  readonly #emit: (event: CycleEvent<WorkerProcess>) => void;
  #exited = false;
  #statsWaiters = new Map<number, (stats: WorkerStats) => void>();
  #seq = 0;
  #heartbeat: NodeJS.Timeout | undefined;
  #lastAnswer = 0;
  #answering = true;
  readonly #missedAfterMs: number;
  readonly #maxMemoryBytes: number;
  #overMemoryTold = false;

  constructor(slot: number, start: Omit<WorkerStart, 'id' | 't'>, share: ListenShare, emit: (event: CycleEvent<WorkerProcess>) => void) {
    this.slot = slot;
    this.#emit = emit;
    this.#missedAfterMs = heartbeatMissedMs(start.config.unresponsiveTimeoutMs);
    this.#maxMemoryBytes = start.config.maxMemoryBytes;
    this.child = fork(WORKER_ENTRY, [], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      // PORT: where herd serves, so an APP that reads it (as on every Node host) listens there.
      env: { ...process.env, HERD_WORKER_ID: String(slot), PORT: String(start.config.port) },
      serialization: 'json',
    });
    forwardLines(this.child.stdout!, process.stdout, `[worker ${slot}] `);
    forwardLines(this.child.stderr!, process.stderr, `[worker ${slot}] `);
    this.child.once('spawn', () => emit({ t: 'spawned', worker: this }));
    this.child.once('exit', (code, signal) => {
      this.#exited = true;
      clearInterval(this.#heartbeat);
      emit({ t: 'exited', worker: this, exit: { code, signal } });
    });
    this.child.on('message', (message: WorkerMessage) => this.#onMessage(message));
    const message: WorkerStart = { t: 'start', id: slot, ...start };
    sendWithHandle(this.child, message, share.handle);
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  #onMessage(message: WorkerMessage): void {
    switch (message.t) {
      case 'ready':
        this.#startHeartbeat();
        this.#emit({ t: 'ready', worker: this });
        break;
      case 'fatal':
        this.fatal = { message: message.message, code: message.code };
        break;
      case 'pong':
        this.#lastAnswer = Date.now();
        if (!this.#answering) {
          this.#answering = true;
          this.#emit({ t: 'heartbeat', worker: this, answering: true });
        }
        if (this.#maxMemoryBytes > 0 && message.rss > this.#maxMemoryBytes && !this.#overMemoryTold) {
          this.#overMemoryTold = true;
          this.#emit({ t: 'over-memory', worker: this, rssBytes: message.rss });
        }
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
        for (const closed of this.onClosed) closed(message.count);
        break;
      case 'notice':
        this.onNotice?.(message.line);
        break;
      case 'metrics':
        this.onMetrics?.(message.snapshot);
        break;
    }
  }

  #startHeartbeat(): void {
    this.#lastAnswer = Date.now();
    this.#heartbeat = setInterval(() => {
      if (this.#answering && Date.now() - this.#lastAnswer > this.#missedAfterMs) {
        this.#answering = false;
        this.#emit({ t: 'heartbeat', worker: this, answering: false });
      }
      this.send({ t: 'ping', seq: ++this.#seq });
    }, HEARTBEAT_EVERY_MS);
    this.#heartbeat.unref();
  }

  /**
   * False only when the worker's channel is gone. (child.send's own false means "queued behind
   * other messages", which is normal when handles are in flight: node sends one handle at a time.)
   */
  send(message: SupervisorMessage, handle?: SendableHandle, onSent?: (err: Error | null) => void): boolean {
    if (!this.child.connected) return false;
    sendWithHandle(this.child, message, handle, onSent);
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

  /** Asks for a graceful stop; a worker whose channel is gone is killed. */
  drain(): void {
    if (!this.send({ t: 'drain' })) this.kill();
  }

  kill(): void {
    // SIGKILL works on a stopped (SIGSTOP) process too.
    if (!this.#exited) this.child.kill('SIGKILL');
  }
}

function forwardLines(from: NodeJS.ReadableStream, to: NodeJS.WritableStream, prefix: string): void {
  readline.createInterface({ input: from, crlfDelay: Infinity }).on('line', (line) => to.write(prefix + line + '\n'));
}
