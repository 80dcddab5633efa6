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
import type { SupervisorMessage } from '../supervisor/messages.ts';
import type { CycleEvent } from '../supervisor/pool_cycle.ts';
import { SIGNAL_MEANINGS } from '../supervisor/signals.ts';
import { monotonicMicros, SystemdNotifier } from '../systemd/notify.ts';
import { forgetSystemdEnvironment } from '../systemd/socket_activation.ts';
import { TreeWatcher } from '../watch/tree_watcher.ts';

export interface LifecycleHost {
  log(line: string): void;
  /** Workers in a slot that are ready for connections, right now. */
  readyWorkers(): number;
  /** Starts a rolling reload, as HUP does (--watch); during one, the pool runs another after it. */
  reload(): void;
  /** Files herd itself writes (logs, pid file, sockets): never a reason to reload. */
  ownFiles(): string[];
  /** Every worker process alive, to be told a stop began. */
  workers(): Iterable<{ send(message: SupervisorMessage): boolean }>;
}

export class DeployLifecycle {
  readonly #config: ServeConfig;
  readonly #host: LifecycleHost;
  #phase: ReadinessPhase = 'starting';
  #healthServer: http.Server | undefined;
  /** --shutdown-delay is running: ends it early (a second stop signal). */
  #endDelay: (() => void) | undefined;
  readonly #systemd: SystemdNotifier | null;
  #watcher: TreeWatcher | undefined;

  constructor(config: ServeConfig, host: LifecycleHost) {
    this.#config = config;
    this.#host = host;
    this.#systemd = SystemdNotifier.fromEnvironment(process.env, host.log);
    // The configuration has read LISTEN_FDS already; workers are spawned after this, without them.
    forgetSystemdEnvironment();
  }

  /**
   * Before the first worker starts: /livez answers from now on, /readyz says 'starting'. `fd`: the
   * listener an upgrade's old herd passed on (opened at the hand-over, once this herd serves).
   */
  async open(fd?: number): Promise<void> {
    if (this.#config.health) {
      const { host, port } = this.#config.health;
      this.#healthServer = await openHealthServer(host, port, () => ({ phase: this.#phase, readyWorkers: this.#host.readyWorkers() }), fd);
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
    void this.#systemd?.send({ RELOADING: 1, MONOTONIC_USEC: monotonicMicros(), STATUS: 'reloading: replacing workers one at a time' });
  }

  /** The reload ended (done, or abandoned with the old workers serving on); not called when a stop cut it short. */
  reloadEnded(abandoned: boolean): void {
    if (this.#phase === 'stopping') return;
    void this.#systemd?.send({ READY: 1, STATUS: (abandoned ? 'reload abandoned; ' : '') + this.#servingStatus(this.#url) });
  }

  /** A stop began (the cycle's own, or one this class delayed): readiness is 503 from this moment. */
  stopBegan(delaying = false): void {
    if (this.#phase === 'stopping') return;
    this.#phase = 'stopping';
    this.#watcher?.close();
    void this.#systemd?.send({ STOPPING: 1, STATUS: delaying ? `stopping: not ready; serving ${this.#config.shutdownDelayMs / 1000} s more before draining` : 'stopping: draining workers' });
  }

  /**
   * --shutdown-delay, in front of the pool's stop: a stop signal (TERM, QUIT) or `herd stop` turns
   * readiness 503 at once and is held for the delay, while the workers keep serving with every
   * response `Connection: close` (keep-alive clients reconnect elsewhere); then `over` hands the
   * stop to the pool, which drains. A second stop signal ends the delay early. Ctrl-C (INT, at a
   * terminal: no balancer to wait for) and a stop with no delay are not held. True: held.
   */
  delaysStop(event: { t: string }, over: () => void): boolean {
    const e = event as CycleEvent;
    const stop = (e.t === 'signal' && SIGNAL_MEANINGS[e.signal] === 'stop') || (e.t === 'command' && e.command === 'stop');
    if (!stop) return false;
    if (this.#endDelay) {
      if (e.t === 'command') e.reply({ ok: true, message: 'already stopping' });
      else this.#endDelay();
      return true;
    }
    const ms = this.#config.shutdownDelayMs;
    if (this.#phase === 'stopping' || ms <= 0 || (e.t === 'signal' && e.signal === 'SIGINT')) return false;
    this.stopBegan(true);
    for (const worker of this.#host.workers()) worker.send({ t: 'closing' });
    this.#host.log(`stop: not ready any more; serving ${ms / 1000} s more (--shutdown-delay) before draining`);
    const timer = setTimeout(() => this.#endDelay?.(), ms);
    this.#endDelay = () => {
      clearTimeout(timer);
      this.#endDelay = undefined;
      void this.#systemd?.send({ STATUS: 'stopping: draining workers' });
      over();
    };
    if (e.t === 'command') e.reply({ ok: true, message: `graceful stop started: not ready; draining in ${ms / 1000} s (--shutdown-delay)` });
    return true;
  }

  /** The health listener, for an upgrade to pass on. */
  get healthServer(): http.Server | undefined {
    return this.#healthServer;
  }

  /** What an upgrade's new herd needs in its environment: systemd's socket (removed from this one's). */
  successorEnvironment(): NodeJS.ProcessEnv {
    return this.#systemd ? { NOTIFY_SOCKET: this.#systemd.socket } : {};
  }

  /**
   * An upgrade's new herd (`pid`) takes over. systemd hears MAINPID=pid now, before this herd
   * exits (else it would take this one's exit for the service's), and nothing more from this one:
   * its STOPPING=1 would stop the service. Probes go to the new herd's health server: this one's
   * closes (the listening socket stays open in the new herd).
   */
  handedOver(pid: number): void {
    this.#phase = 'stopping';
    this.#watcher?.close();
    // Stops accepting; a probe being answered finishes (each connection closes after its answer).
    this.#healthServer?.close();
    void this.#systemd?.handOver(pid, `upgrading: the new herd (pid ${pid}) serves`);
  }

  /** At the very end: listeners closed, every notification sent. */
  async close(): Promise<void> {
    this.#watcher?.close();
    this.#healthServer?.close();
    this.#healthServer?.closeAllConnections(); // a prober's keep-alive connection must not keep herd alive
    await this.#systemd?.flushed();
  }
}
