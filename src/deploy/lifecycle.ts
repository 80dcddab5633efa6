// What the world outside one herd sees of its lifecycle: the health listener (--health), the
// shutdown delay (--shutdown-delay), and systemd's notifications (READY=1, RELOADING=1, STOPPING=1,
// STATUS=) when NOTIFY_SOCKET is set; and --watch, which asks for reloads. The supervisor calls one
// method at each moment that matters (started, reload began/ended, stop began, gone); everything a
// balancer, Kubernetes or systemd needs from those moments is decided here, not in the master loop.
import type http from 'node:http';
import path from 'node:path';
import type { ServeConfig } from '../config.ts';
import { openHealthServer } from '../health/health_server.ts';
import type { ReadinessPhase } from '../health/readiness.ts';
import type { WorkerProcess } from '../supervisor/worker_process.ts';
import { monotonicMicros, SystemdNotifier } from '../systemd/notify.ts';
import { forgetSystemdEnvironment } from '../systemd/socket_activation.ts';
import { TreeWatcher } from '../watch/tree_watcher.ts';

export interface LifecycleHost {
  log(line: string): void;
  /** Workers in a slot that are ready for connections, right now. */
  readyWorkers(): number;
  /** Starts a rolling reload, as HUP does (--watch). */
  reload(): void;
  /** Files herd itself writes (logs, pid file, sockets): never a reason to reload. */
  ownFiles(): string[];
}

export class DeployLifecycle {
  readonly #config: ServeConfig;
  readonly #host: LifecycleHost;
  #phase: ReadinessPhase = 'starting';
  #healthServer: http.Server | undefined;
  /** Whether this stop waits --shutdown-delay first (not a crash loop, not a Ctrl-C at a terminal). */
  #delayStop = false;
  #skipDelay: (() => void) | undefined;
  readonly #systemd: SystemdNotifier | null;
  #watcher: TreeWatcher | undefined;
  #reloading = false;
  /** A file changed while a reload ran: the workers it started may have loaded the old file. */
  #changedDuringReload = false;

  constructor(config: ServeConfig, host: LifecycleHost) {
    this.#config = config;
    this.#host = host;
    this.#systemd = SystemdNotifier.fromEnvironment(process.env, host.log);
    // The configuration has read LISTEN_FDS already; workers are spawned after this, without them.
    forgetSystemdEnvironment();
  }

  /** Before the first worker starts: /livez answers from now on, /readyz says 'starting'. */
  async open(): Promise<void> {
    if (this.#config.health) {
      const { host, port } = this.#config.health;
      this.#healthServer = await openHealthServer(host, port, () => ({ phase: this.#phase, readyWorkers: this.#host.readyWorkers() }));
      const bound = (this.#healthServer.address() as { port: number }).port;
      this.#host.log(`health on http://${host.includes(':') ? `[${host}]` : host}:${bound} (/livez, /readyz)`);
    }
  }

  /** Every first worker is ready. */
  serving(url: string): void {
    if (this.#phase !== 'starting') return;
    this.#phase = 'serving';
    void this.#systemd?.send({ READY: 1, STATUS: this.#servingStatus(url) });
    if (this.#config.watch) this.#watch(this.#config.watch);
  }

  #watch(paths: string[]): void {
    const shown = paths.map((p) => path.relative(process.cwd(), p) || '.').join(', ');
    this.#watcher = new TreeWatcher(paths, (files) => {
      if (this.#phase !== 'serving') return;
      const first = path.relative(process.cwd(), files[0]) || files[0];
      if (this.#reloading) {
        this.#changedDuringReload = true;
        return;
      }
      this.#host.log(`watch: ${files.length === 1 ? first : `${files.length} files (${first}, ...)`} changed; reloading`);
      this.#host.reload();
    }, { ignoreFiles: this.#host.ownFiles() });
    this.#host.log(`watch: reloading on changes under ${shown} (${this.#watcher.directories} director${this.#watcher.directories === 1 ? 'y' : 'ies'}; node_modules and dotfiles ignored)`);
  }

  #url = '';
  #servingStatus(url: string): string {
    this.#url = url;
    const n = this.#config.workers;
    return `serving on ${url} with ${n} worker${n === 1 ? '' : 's'} (dispatch ${this.#config.dispatch})`;
  }

  /** A rolling reload began (HUP, herd reload, --watch). */
  reloadBegan(): void {
    this.#reloading = true;
    void this.#systemd?.send({ RELOADING: 1, MONOTONIC_USEC: monotonicMicros(), STATUS: 'reloading: replacing workers one at a time' });
  }

  /** The reload ended (done, or abandoned with the old workers serving on); not called when a stop cut it short. */
  reloadEnded(abandoned: boolean): void {
    this.#reloading = false;
    if (this.#phase === 'stopping') return;
    if (this.#changedDuringReload) {
      this.#changedDuringReload = false;
      this.#host.log('watch: files changed during the reload; reloading again');
      queueMicrotask(() => this.#host.reload());
    }
    void this.#systemd?.send({ READY: 1, STATUS: (abandoned ? 'reload abandoned; ' : '') + this.#servingStatus(this.#url) });
  }

  /**
   * A stop began: readiness is 503 from this moment. `graceful`: a stop that may wait
   * --shutdown-delay (TERM, QUIT, herd stop); a crash loop or Ctrl-C (INT) drains at once.
   */
  stopBegan(graceful: boolean): void {
    if (this.#phase === 'stopping') return;
    this.#phase = 'stopping';
    this.#delayStop = graceful;
    this.#watcher?.close();
    const delaying = graceful && this.#config.shutdownDelayMs > 0;
    void this.#systemd?.send({ STOPPING: 1, STATUS: delaying ? `stopping: not ready; serving ${this.#config.shutdownDelayMs / 1000} s more before draining` : 'stopping: draining workers' });
  }

  /**
   * --shutdown-delay: workers keep serving (every response Connection: close, so keep-alive
   * clients reconnect elsewhere) while the balancer takes this host out; then the drain begins.
   */
  async shutdownDelay(workers: Iterable<WorkerProcess>): Promise<void> {
    const ms = this.#config.shutdownDelayMs;
    if (!this.#delayStop || ms <= 0) return;
    for (const worker of workers) worker.send({ t: 'closing' });
    this.#host.log(`stop: not ready any more; serving ${ms / 1000} s more (--shutdown-delay) before draining`);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#skipDelay = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.#skipDelay = undefined;
    void this.#systemd?.send({ STATUS: 'stopping: draining workers' });
  }

  /** A second stop signal: the user will not wait. */
  hurry(): void {
    this.#skipDelay?.();
  }

  /** At the very end: listeners closed, every notification sent. */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#healthServer?.close();
    this.#healthServer?.closeAllConnections(); // a prober's keep-alive connection must not keep herd alive
    await this.#systemd?.flushed();
  }
}
