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
import { openDispatch, type Dispatch, type ListenAddress } from '../dispatch/dispatch.ts';
import { openControlServer, type ControlSocket } from './control_server.ts';
import { writePidFile } from './runtime_dir.ts';
import type { ControlReply, ControlRequest, Status } from './control_protocol.ts';
import { EventQueue } from './event_queue.ts';
import { listenForSignals, SIGNAL_MEANINGS } from './signals.ts';
import { WorkerProcess } from './worker_process.ts';
import { PoolCycle, START_TIMEOUT_GRACE_MS, type CycleEvent, type CycleHost, type CycleMoment } from './pool_cycle.ts';
import { addressKey, serverFd, type PassedSocket } from './inherited_sockets.ts';
import { Predecessor } from './predecessor.ts';
import { Successor } from './successor.ts';
import { HerdError } from '../errors.ts';
import { LogDaemon } from '../logd/supervisor_side.ts';
import { readListenCounters } from '../lab/listen_counters.ts';
import { HerdMetrics } from '../metrics/herd_metrics.ts';
import { openMetricsServer } from '../metrics/metrics_server.ts';
import { renderMetrics } from '../metrics/prometheus_text.ts';
import { AppPorts } from './app_ports.ts';
import { tlsReloadRefusal } from '../transport/tls_credentials.ts';
import { openHttpsRedirect } from '../transport/redirect_http.ts';
import { DeployLifecycle } from '../deploy/lifecycle.ts';

/** An upgrade's new herd gets its own --start-timeout and this much more, before this herd gives up on it. */
const UPGRADE_MARGIN_MS = 15_000;
/**
 * After an upgrade's hand-over the old workers answer with Connection: close this long before they
 * drain: a keep-alive client busy enough to send in that time reconnects (to either herd) between
 * two requests, instead of having its next request cross the close of an idle connection.
 */
const HAND_OVER_CLOSE_MS = 1000;

type SupervisorEvent =
  | CycleEvent<WorkerProcess>
  | { t: 'status'; reply: (reply: ControlReply) => void }
  /** --shutdown-delay is over: the held stop goes to the pool now. */
  | { t: 'stop-delay-over' };

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
  #control: ControlSocket | undefined;
  /** An upgrade started this herd: the old one's sockets, and the old one to ask for the hand-over. */
  readonly #predecessor: Predecessor | null;
  /** An upgrade this herd started: the new herd, until it takes over or is given up on. */
  #successor: Successor | undefined;
  /** The control socket path and the pid file are this herd's to write and remove (not before an upgrade's hand-over, nor after one). */
  #ownsPaths: boolean;
  /** --port as asked for (0: any), before the dispatch resolves it: a new herd asks for it so. */
  readonly #askedPort: number;
  readonly #logSocket: string;
  /** An upgrade's new herd: listeners it serves from the hand-over on (the old herd's metrics and health). */
  readonly #atHandOver: (() => Promise<void>)[] = [];
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
    this.#predecessor = Predecessor.fromEnvironment();
    this.#ownsPaths = this.#predecessor === null;
    this.#askedPort = config.port;
    // Where workers reach logd: beside the control socket, so it is as private as that; an upgrade's
    // new herd has its own logd while the old one's still runs.
    this.#logSocket = this.#predecessor ? `${config.controlPath}.${process.pid}.logd` : `${config.controlPath}.logd`;
    const app = config.app ? `APP ${path.relative(process.cwd(), config.app) || config.app}` : 'the worker';
    this.#cycle = new PoolCycle<WorkerProcess>(this.#cycleHost(), {
      workers: config.workers,
      startTimeoutMs: config.startTimeoutMs,
      graceMs: config.graceSeconds * 1000,
      unresponsiveTimeoutMs: config.unresponsiveTimeoutMs,
      replaceUnresponsiveAtOnce: config.dispatch !== 'handoff',
      maxMemoryBytes: config.maxMemoryBytes,
      appLabel: app,
      // The new herd's workers have its --start-timeout; this bounds a new herd stuck before it starts any.
      upgradeTimeoutMs: config.startTimeoutMs > 0 ? config.startTimeoutMs + START_TIMEOUT_GRACE_MS + UPGRADE_MARGIN_MS : 0,
      handOverCloseMs: HAND_OVER_CLOSE_MS,
    });
    this.#lifecycle = new DeployLifecycle(config, {
      log: (line) => this.#log(line),
      readyWorkers: () => this.#cycle.workers().filter((v) => v.state === 'ready').length,
      reload: () => this.#queue.push({ t: 'signal', signal: 'SIGHUP' }),
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
    const unlisten = listenForSignals((signal) => this.#queue.push({ t: 'signal', signal }));
    try {
      await this.#open();
    } catch (err) {
      unlisten();
      await this.#teardown();
      if (err instanceof Error) Predecessor.tellFailure(err.message);
      throw err;
    }
    this.#cycle.start();
    for await (const event of this.#queue) this.#handle(event);
    unlisten();
    // Nothing half-started: a worker that could not start stopped the others; its reason is herd's.
    if (this.#cycle.startError) {
      Predecessor.tellFailure(this.#cycle.startError.message);
      throw this.#cycle.startError;
    }
    return this.#cycle.exitCode;
  }

  async #open(): Promise<void> {
    if (process.pid === 1) {
      // An init reaps every orphan; Node can wait only for children it spawned itself.
      this.#log('running as PID 1: herd cannot reap orphaned grandchildren (zombies would pile up); run it under an init: docker run --init, or tini');
    }
    this.#dispatch = await openDispatch(this.config, this.#mainAddress());
    // Port 0 is resolved by the dispatch; every worker must use the port it found.
    this.config.port = this.#dispatch.port;
    if (this.config.listenFd !== null) this.config.host = this.#dispatch.host; // systemd's socket, wherever it is bound
    this.#appPorts = new AppPorts(this.config, this.#dispatch, (worker) => {
      const state = this.#cycle.stateOf(worker);
      return state === 'starting' || state === 'ready';
    }, (host, port) => this.#inheritedAddress(host, port));
    this.#control = await openControlServer(this.config.controlPath, (request) => this.#request(request), this.#ownsPaths);
    if (this.config.accessLog !== null || this.config.errorLog !== '-') {
      this.#logd = await LogDaemon.start({ accessLog: this.config.accessLog, errorLog: this.config.errorLog, socketPath: this.#logSocket });
    }
    // The old herd's metrics and health listeners are served from the hand-over on, not while this
    // herd starts: a probe would meet this one's 503 'starting' beside the old one's 200, a scraper
    // counters that go back and forth between two herds.
    const { metrics, health } = this.config;
    const metricsFd = metrics ? this.#predecessor?.sockets.takeOne(metrics.host, metrics.port) : undefined;
    if (metricsFd === undefined) await this.#openMetrics(undefined);
    else this.#atHandOver.push(() => this.#openMetrics(metricsFd));
    if (this.config.redirectHttp !== null) {
      this.#redirect = await openHttpsRedirect(this.config.host, this.config.redirectHttp, this.config.port, this.#predecessor?.sockets.takeOne(this.config.host, this.config.redirectHttp));
    }
    const healthFd = health ? this.#predecessor?.sockets.takeOne(health.host, health.port) : undefined;
    if (healthFd === undefined) await this.#lifecycle.open();
    else this.#atHandOver.push(() => this.#lifecycle.open(healthFd));
    if (this.#ownsPaths && this.config.pidFile) writePidFile(this.config.pidFile);
  }

  async #openMetrics(fd: number | undefined): Promise<void> {
    if (!this.config.metrics) return;
    const { host, port } = this.config.metrics;
    this.#metricsServer = await openMetricsServer(host, port, (openMetrics) => this.#renderMetrics(openMetrics), fd);
    const bound = (this.#metricsServer.address() as { port: number }).port;
    this.#metricsUrl = `http://${host.includes(':') ? `[${host}]` : host}:${bound}/metrics`;
    this.#log(`metrics on ${this.#metricsUrl}`);
  }

  /** herd's --host/--port: systemd's socket, an upgrade's (the old herd's), or none yet (bound). */
  #mainAddress(): ListenAddress {
    const { host, port } = this.config;
    if (this.config.listenFd !== null) {
      this.#predecessor?.sockets.takeActivated(); // systemd's socket, passed on by the old herd: config.listenFd
      return { host, port, fd: this.config.listenFd };
    }
    return this.#inheritedAddress(host, port);
  }

  /** host:port, with the old herd's socket for it when an upgrade passed one. */
  #inheritedAddress(host: string, port: number): ListenAddress {
    const fds = this.#predecessor?.sockets.take(host, port, this.config.dispatch === 'reuseport');
    if (!fds) return { host, port };
    return this.config.dispatch === 'reuseport' ? { host, port, fds } : { host, port, fd: fds[0] };
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
      startSuccessor: () => this.#startSuccessor(),
      handOver: (pid) => this.#handOver(pid),
      abandonSuccessor: () => {
        this.#successor?.abandon();
        this.#successor = undefined;
      },
    };
  }

  // ── upgrade: this herd starting the new one ─────────────────────────────────────────────────

  #startSuccessor(): { pid: number } | { refused: string } {
    if (process.pid === 1) {
      return { refused: 'herd is PID 1 here and cannot replace itself: the new herd would be its child, and when PID 1 exits the container ends with it; deploy a new container, or run herd under an init (docker run --init, tini) to upgrade in place' };
    }
    try {
      this.#successor = Successor.start(this.#socketsToPass(), this.#lifecycle.successorEnvironment(), (event) => this.#queue.push(event));
    } catch (err) {
      if (err instanceof HerdError) return { refused: err.message };
      throw err;
    }
    return { pid: this.#successor.pid };
  }

  /** Every listening socket this herd holds, by the addresses a new herd's configuration would ask for. */
  #socketsToPass(): PassedSocket[] {
    const passed: PassedSocket[] = [];
    const add = (host: string, ports: number[], fds: (number | undefined)[], reuseport = false, activated = false) => {
      if (fds.some((fd) => fd === undefined)) return; // not listening (closed meanwhile): the new herd binds it
      passed.push({ addresses: [...new Set(ports.map((p) => addressKey(host, p)))], reuseport, activated, fds: fds as number[] });
    };
    const main = this.#dispatch;
    if (main) add(this.config.host, [this.#askedPort, main.port], main.sockets.map((s) => s.fd), main.mode === 'reuseport', this.config.listenFd !== null);
    for (const { host, port, dispatch } of this.#appPorts?.open() ?? []) add(host, [port, dispatch.port], dispatch.sockets.map((s) => s.fd), dispatch.mode === 'reuseport');
    const server = (s: net.Server | undefined, host: string, port: number) => {
      if (s) add(host, [port, (s.address() as net.AddressInfo | null)?.port ?? port], [serverFd(s)]);
    };
    if (this.config.metrics) server(this.#metricsServer, this.config.metrics.host, this.config.metrics.port);
    if (this.config.health) server(this.#lifecycle.healthServer, this.config.health.host, this.config.health.port);
    if (this.config.redirectHttp !== null) server(this.#redirect, this.config.host, this.config.redirectHttp);
    return passed;
  }

  /** The new herd is ready: the paths, systemd and the probes are its own now; this herd drains (the cycle's stop). */
  #handOver(pid: number): void {
    this.#successor?.takeOver();
    this.#successor = undefined;
    this.#ownsPaths = false;
    this.#lifecycle.handedOver(pid);
    for (const { worker } of this.#cycle.workers()) worker.send({ t: 'closing' });
    this.#metricsServer?.close();
    this.#metricsServer?.closeAllConnections();
  }

  /** The cycle's named moments: where readiness, notify and shutdown hooks attach. */
  #moment(moment: CycleMoment): void {
    switch (moment) {
      case 'all-ready':
        if (this.#predecessor) void this.#takeOver(this.#predecessor);
        else this.#serving();
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

  #serving(): void {
    this.#lifecycle.serving(this.url);
    this.#onReady?.(this.url);
  }

  /** An upgrade's new herd, its workers ready: once the old herd hands over, the paths are this one's. */
  async #takeOver(predecessor: Predecessor): Promise<void> {
    await predecessor.handOver();
    // A stop came meanwhile (the old herd gave up on this one: it sent TERM): nothing to take.
    if (this.#cycle.phase === 'stopping' || this.#cycle.phase === 'stopped') return;
    this.#ownsPaths = true;
    // Each step on its own: one that fails (a directory removed meanwhile) is told, the others still run.
    const step = async (work: () => unknown): Promise<void> => {
      try {
        await work();
      } catch (err) {
        this.#log(`upgrade: ${(err as Error).message}`);
      }
    };
    await step(() => this.#control?.claimPath());
    if (this.config.pidFile) await step(() => writePidFile(this.config.pidFile!));
    this.#log(`upgrade: took over from herd pid ${predecessor.pid}; the control socket${this.config.pidFile ? ' and the pid file are' : ' is'} this one's`);
    this.#serving(); // readiness is 'serving' before the health listener answers
    for (const open of this.#atHandOver.splice(0)) await step(open);
    predecessor.sockets.closeLeftovers();
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
      if (request.command === 'status') this.#queue.push({ t: 'status', reply });
      else this.#queue.push({ t: 'command', command: request.command, reply });
    });
  }

  #handle(event: SupervisorEvent): void {
    switch (event.t) {
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
        if (this.#cycle.phase !== 'stopping' && this.#cycle.phase !== 'stopped') this.#cycle.handle({ t: 'signal', signal: 'SIGTERM' });
        return;
    }
    if (this.#certificateRefusesReload(event)) return;
    if (this.#lifecycle.delaysStop(event, () => this.#queue.push({ t: 'stop-delay-over' }))) return;
    this.#cycle.handle(event);
  }

  /**
   * --tls-cert: a reload's new workers read the certificate files again, so bad files would fail
   * every one of them. They are checked first; if bad, the reload does not begin and the workers
   * serve on with the certificate they loaded.
   */
  #certificateRefusesReload(event: SupervisorEvent): boolean {
    const reload = (event.t === 'signal' && SIGNAL_MEANINGS[event.signal] === 'reload') || (event.t === 'command' && event.command === 'reload');
    if (!reload) return false;
    const refused = tlsReloadRefusal(this.config.tls);
    if (refused === null) return false;
    this.#log(`reload refused: ${refused}; the workers serve on with the certificate they have`);
    if (event.t === 'command') event.reply({ ok: false, error: `reload refused: ${refused}` });
    return true;
  }

  async #teardown(): Promise<void> {
    this.#dispatch?.close();
    this.#appPorts?.close();
    this.#control?.server.close(); // unlinks only the name it was bound at (control_server.ts)
    this.#successor?.abandon();
    this.#metricsServer?.close();
    this.#redirect?.close();
    this.#redirect?.closeAllConnections();
    this.#metricsServer?.closeAllConnections(); // a scraper's keep-alive connection must not keep herd alive
    await this.#lifecycle.close();
    await this.#logd?.stop();
    // After an upgrade's hand-over they are the new herd's; before it, the old one's.
    for (const file of this.#ownsPaths ? [this.config.controlPath, this.config.pidFile] : []) {
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
