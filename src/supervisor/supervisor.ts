// The supervisor: it opens what the pool needs (the dispatch, the control socket, logd, metrics)
// and runs the master cycle. Everything that happens is an event in one queue, taken in order by
// `run()`: signals, control commands, every worker's spawn, ready, exit and heartbeat, and the
// timers the rules set. The rules themselves are pool_cycle.ts's; this file is what they do to
// the world (processes, sockets, logs), through the CycleHost it gives them.
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import type net from 'node:net';
import type { ServeConfig } from '../config.ts';
import { openDispatch, type Dispatch } from '../dispatch/dispatch.ts';
import { openControlServer } from './control_server.ts';
import { writePidFile } from './runtime_dir.ts';
import type { ControlReply, ControlRequest, Status } from './control_protocol.ts';
import { EventQueue } from './event_queue.ts';
import { listenForSignals, SIGNAL_MEANINGS } from './signals.ts';
import { WorkerProcess } from './worker_process.ts';
import { PoolCycle, type CycleEvent, type CycleHost, type CycleMoment } from './pool_cycle.ts';
import { LogDaemon } from '../logd/supervisor_side.ts';
import { readListenCounters } from '../lab/listen_counters.ts';
import { HerdMetrics } from '../metrics/herd_metrics.ts';
import { openMetricsServer } from '../metrics/metrics_server.ts';
import { renderMetrics } from '../metrics/prometheus_text.ts';
import { AppPorts } from './app_ports.ts';
import { tlsReloadRefusal } from '../transport/tls_credentials.ts';
import { openHttpsRedirect } from '../transport/redirect_http.ts';
import { DeployLifecycle } from '../deploy/lifecycle.ts';

type SupervisorEvent =
  | CycleEvent<WorkerProcess>
  | { type: 'status'; reply: (reply: ControlReply) => void }
  /** --shutdown-delay is over: the held stop goes to the pool now. */
  | { type: 'stop-delay-over' };

export interface SupervisorEvents {
  /** Called once every worker is ready, with the URL served. */
  onReady?: (url: string) => void;
  /** Supervisor events for the user (worker died, reload done...): one line each. */
  log?: (line: string) => void;
}

export class Supervisor {
  readonly config: ServeConfig;
  readonly #queue = new EventQueue<SupervisorEvent>();
  readonly #cycle: PoolCycle<WorkerProcess>;
  readonly #startedAt = Date.now();
  readonly #log: (line: string) => void;
  #dispatch: Dispatch | undefined;
  /** Ports the APP's own servers listen on besides --port (an admin server, say). */
  #appPorts: AppPorts | undefined;
  #control: net.Server | undefined;
  #logd: LogDaemon | undefined;
  /** --metrics: the workers' reports, and the server scrapers read them from. */
  readonly #metrics: HerdMetrics | null;
  #metricsServer: http.Server | undefined;
  #metricsUrl: string | null = null;
  #reloads = 0;
  /** --redirect-http: the cleartext listener sending clients to https. */
  #redirect: http.Server | undefined;

  readonly #onReady: ((url: string) => void) | undefined;
  /** Health listener, shutdown delay, systemd, --watch: told of each lifecycle moment (deploy/lifecycle.ts). */
  readonly #lifecycle: DeployLifecycle;

  constructor(config: ServeConfig, events: SupervisorEvents = {}) {
    this.config = config;
    this.#log = events.log ?? ((line) => this.#errorLog(line));
    this.#onReady = events.onReady;
    this.#metrics = config.metrics ? new HerdMetrics() : null;
    const app = config.app ? `APP ${path.relative(process.cwd(), config.app) || config.app}` : 'the worker';
    this.#cycle = new PoolCycle<WorkerProcess>(this.#cycleHost(), {
      workers: config.workers,
      startTimeoutMs: config.startTimeoutMs,
      graceMs: config.graceSeconds * 1000,
      unresponsiveTimeoutMs: config.unresponsiveTimeoutMs,
      replaceUnresponsiveAtOnce: config.dispatch !== 'handoff',
      maxMemoryBytes: config.maxMemoryBytes,
      appLabel: app,
    });
    this.#lifecycle = new DeployLifecycle(config, {
      log: (line) => this.#log(line),
      readyWorkers: () => this.#cycle.workers().filter((v) => v.state === 'ready').length,
      reload: () => this.#queue.push({ type: 'signal', signal: 'SIGHUP' }),
      ownFiles: () => [config.accessLog, config.errorLog, config.pidFile, config.controlPath, this.#logSocket].filter((f): f is string => f !== null && f !== '-'),
      workers: () => this.#cycle.workers().map((v) => v.worker),
    });
  }

  get url(): string {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `${this.config.tls ? 'https' : 'http'}://${host}:${this.#dispatch?.port ?? this.config.port}`;
  }

  /** Starts everything, runs the loop until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    const unlisten = listenForSignals((signal) => this.#queue.push({ type: 'signal', signal }));
    try {
      await this.#open();
    } catch (err) {
      unlisten();
      await this.#teardown();
      throw err;
    }
    this.#cycle.start();
    for await (const event of this.#queue) this.#handle(event);
    unlisten();
    // Nothing half-started: a worker that could not start stopped the others; its reason is herd's.
    if (this.#cycle.startError) throw this.#cycle.startError;
    return this.#cycle.exitCode;
  }

  async #open(): Promise<void> {
    if (process.pid === 1) {
      // An init reaps every orphan; Node can wait only for children it spawned itself.
      this.#log('running as PID 1: herd cannot reap orphaned grandchildren (zombies would pile up); run it under an init: docker run --init, or tini');
    }
    this.#dispatch = await openDispatch(this.config);
    // Port 0 is resolved by the dispatch; every worker must use the port it found.
    this.config.port = this.#dispatch.port;
    if (this.config.listenFd !== null) this.config.host = this.#dispatch.host; // systemd's socket, wherever it is bound
    this.#appPorts = new AppPorts(this.config, this.#dispatch, (worker) => {
      const state = this.#cycle.stateOf(worker);
      return state === 'starting' || state === 'ready';
    });
    this.#control = await openControlServer(this.config.controlPath, (request) => this.#request(request));
    if (this.config.accessLog !== null || this.config.errorLog !== '-') {
      this.#logd = await LogDaemon.start({ accessLog: this.config.accessLog, errorLog: this.config.errorLog, socketPath: this.#logSocket });
    }
    if (this.config.metrics) {
      const { host, port } = this.config.metrics;
      this.#metricsServer = await openMetricsServer(host, port, (openMetrics) => this.#renderMetrics(openMetrics));
      const bound = (this.#metricsServer.address() as { port: number }).port;
      this.#metricsUrl = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`;
      this.#log(`metrics on ${this.#metricsUrl}`);
    }
    if (this.config.redirectHttp !== null) this.#redirect = await openHttpsRedirect(this.config.host, this.config.redirectHttp, this.config.port);
    await this.#lifecycle.open();
    if (this.config.pidFile) writePidFile(this.config.pidFile);
  }

  /** What the cycle's rules do to the world: processes, timers, the dispatch, the log. */
  #cycleHost(): CycleHost<WorkerProcess> {
    return {
      spawn: (slot) => this.#spawn(slot),
      after: (ms, event) => {
        const timer = setTimeout(() => this.#queue.push(event), ms);
        timer.unref(); // the workers and the control socket keep herd alive, not a timer
        return () => clearTimeout(timer);
      },
      route: (worker) => this.#dispatch?.add(worker),
      unroute: (worker) => {
        this.#dispatch?.remove(worker);
        this.#appPorts?.remove(worker);
      },
      stopAccepting: () => {
        this.#dispatch?.close();
        this.#dispatch = undefined;
        this.#appPorts?.close();
      },
      reopenLogs: () => this.#logd?.reopen(),
      log: (line, terminal) => {
        this.#log(line);
        if (terminal && this.#logd) console.error(`herd: ${line}`); // the reason herd exits belongs on the terminal too
      },
      now: () => Date.now(),
      moment: (moment) => this.#moment(moment),
    };
  }

  /** The cycle's named moments: where readiness, notify and shutdown hooks attach. */
  #moment(moment: CycleMoment): void {
    switch (moment) {
      case 'all-ready':
        this.#lifecycle.serving(this.url);
        this.#onReady?.(this.url);
        return;
      case 'reload-began':
        this.#reloads++;
        this.#lifecycle.reloadBegan();
        return;
      case 'reload-ended':
        this.#lifecycle.reloadEnded(false);
        return;
      case 'stop-began':
        this.#lifecycle.stopBegan();
        return;
      case 'stopped':
        void this.#teardown().finally(() => this.#queue.close());
        return;
    }
  }

  /** Where workers reach logd: beside the control socket, so it is as private as that. */
  get #logSocket(): string {
    return `${this.config.controlPath}.logd`;
  }

  /** Supervisor events: on stderr by default, else one timestamped line each in the error log. */
  #errorLog(line: string): void {
    if (this.#logd) this.#logd.error(`${new Date().toISOString()} herd[${process.pid}]: ${line}`);
    else console.error(`herd: ${line}`);
  }

  #spawn(slot: number): WorkerProcess {
    const start = { config: this.config, logSocket: this.#logd ? this.#logSocket : null };
    const worker = new WorkerProcess(slot, start, this.#dispatch!.shareFor(slot), (event) => this.#queue.push(event));
    worker.onNotice = (line) => this.#log(`worker ${slot}: ${line}`);
    worker.onListen = (seq, host, port) => void this.#appPorts?.answer(worker, seq, host, port);
    const metrics = this.#metrics;
    if (metrics) worker.onMetrics = (snapshot) => metrics.report(slot, worker.pid, snapshot);
    return worker;
  }

  #request(request: ControlRequest): Promise<ControlReply> {
    return new Promise((reply) => {
      if (request.command === 'status') this.#queue.push({ type: 'status', reply });
      else this.#queue.push({ type: 'command', command: request.command, reply });
    });
  }

  #handle(event: SupervisorEvent): void {
    switch (event.type) {
      case 'status':
        void this.#status().then((status) => event.reply({ ok: true, status }));
        return;
      case 'exited':
        // What the dead worker was handed and never took goes to another worker (handoff).
        this.#dispatch?.gone(event.worker);
        this.#appPorts?.gone(event.worker);
        this.#metrics?.exited(event.worker.pid);
        break;
      case 'stop-delay-over':
        // Unless the pool stopped by itself meanwhile (a crash loop): then a TERM would mean "kill now".
        if (this.#cycle.phase !== 'stopping' && this.#cycle.phase !== 'stopped') this.#cycle.handle({ type: 'signal', signal: 'SIGTERM' });
        return;
    }
    if (this.#certificateRefusesReload(event)) return;
    if (this.#lifecycle.delaysStop(event, () => this.#queue.push({ type: 'stop-delay-over' }))) return;
    this.#cycle.handle(event);
  }

  /**
   * --tls-cert: a reload's new workers read the certificate files again, so bad files would fail
   * every one of them. They are checked first; if bad, the reload does not begin and the workers
   * serve on with the certificate they loaded.
   */
  #certificateRefusesReload(event: SupervisorEvent): boolean {
    const reload = (event.type === 'signal' && SIGNAL_MEANINGS[event.signal] === 'reload') || (event.type === 'command' && event.command === 'reload');
    if (!reload) return false;
    const refused = tlsReloadRefusal(this.config.tls);
    if (refused === null) return false;
    this.#log(`reload refused: ${refused}; the workers serve on with the certificate they have`);
    if (event.type === 'command') event.reply({ ok: false, error: `reload refused: ${refused}` });
    return true;
  }

  async #teardown(): Promise<void> {
    this.#dispatch?.close();
    this.#appPorts?.close();
    this.#control?.close();
    this.#metricsServer?.close();
    this.#redirect?.close();
    this.#redirect?.closeAllConnections();
    this.#metricsServer?.closeAllConnections(); // a scraper's keep-alive connection must not keep herd alive
    await this.#lifecycle.close();
    await this.#logd?.stop();
    for (const file of [this.config.controlPath, this.config.pidFile]) {
      try {
        if (file) fs.rmSync(file, { force: true });
      } catch {
        // Not ours to remove (a directory we cannot read): leaving a stale file is harmless.
      }
    }
  }

  #renderMetrics(openMetrics: boolean): string {
    let listenOverflows: number | null = null;
    try {
      listenOverflows = readListenCounters().listenOverflows;
    } catch {
      // /proc/net/netstat unreadable (not Linux, or a restricted container): the metric is left out.
    }
    return renderMetrics({
      slots: this.#metrics!.slots(),
      restarts: this.#cycle.restarts(),
      reloads: this.#reloads,
      handoffQueued: this.#dispatch?.queued?.() ?? null,
      accessLog: this.config.accessLog !== null,
      listenOverflows,
    }, openMetrics);
  }

  async #status(): Promise<Status> {
    // Not only the owners: a worker leaving (draining, stuck) or starting serves or holds connections too.
    const owners = this.#cycle.workers();
    const stats = await Promise.all(owners.map((o) => o.worker.stats()));
    const total = stats.reduce((sum, s) => sum + (s?.requests ?? 0), 0);
    const now = Date.now();
    return {
      pid: process.pid,
      listen: this.url,
      app: this.config.app,
      workersWanted: this.config.workers,
      accessLog: this.config.accessLog,
      errorLog: this.config.errorLog,
      metricsUrl: this.#metricsUrl,
      dispatch: this.config.dispatch,
      handoff: this.config.handoff,
      engine: this.config.engine,
      uptimeSec: (now - this.#startedAt) / 1000,
      reloading: this.#cycle.phase === 'reloading',
      lastReload: this.#cycle.lastReload ?? null,
      logd: this.#logd ? { pid: this.#logd.pid, restarts: this.#logd.restarts } : null,
      requests: total,
      workers: owners.map(({ worker: w, state, startedAt, restarts }, i) => {
        const s = stats[i];
        const uptimeSec = (now - startedAt) / 1000;
        return {
          id: w.slot,
          pid: w.pid,
          state,
          uptimeSec,
          connections: s?.connections ?? 0,
          requests: s?.requests ?? 0,
          share: total > 0 ? (s?.requests ?? 0) / total : 0,
          restarts,
          rssBytes: s?.rss ?? 0,
          cpuPercent: s && uptimeSec > 0 ? s.cpuMicros / 1e4 / uptimeSec : 0,
          logDropped: s?.logDropped ?? 0,
          durationCounts: this.#metrics?.latest(w.pid)?.durationCounts ?? null,
        };
      }),
    };
  }
}
