// The master cycle. Everything that happens to the supervisor is an event in one queue, taken in
// order by `run()`: signals, worker exits, respawn timers, control commands. Long operations (a
// rolling reload, a graceful stop) run as tasks beside the loop, so a signal is never stuck
// behind them: TERM during a reload stops the reload.
import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import type net from 'node:net';
import type { ServeConfig } from '../config.ts';
import { openDispatch, type Dispatch } from '../dispatch/dispatch.ts';
import { SlotHealth } from './backoff.ts';
import { openControlServer } from './control_server.ts';
import { writePidFile } from './runtime_dir.ts';
import type { ControlReply, ControlRequest, Status } from './control_protocol.ts';
import { EventQueue } from './event_queue.ts';
import { listenForSignals, SIGNAL_MEANINGS, type SupervisorSignal } from './signals.ts';
import { WorkerProcess, type WorkerExit } from './worker_process.ts';
import { LogDaemon } from '../logd/supervisor_side.ts';
import { readListenCounters } from '../lab/listen_counters.ts';
import { HerdMetrics } from '../metrics/herd_metrics.ts';
import { openMetricsServer } from '../metrics/metrics_server.ts';
import { renderMetrics } from '../metrics/prometheus_text.ts';
import { AppPorts } from './app_ports.ts';
import { DeployLifecycle } from '../deploy/lifecycle.ts';

/**
 * A worker that can say why it is not ready (an APP that never listens) says so at --start-timeout;
 * the supervisor kills it this much later, for one that cannot (an import that never finishes, a
 * blocked event loop). The margin keeps the worker's more precise line from losing that race.
 */
const START_TIMEOUT_GRACE_MS = 1000;

type SupervisorEvent =
  | { type: 'signal'; signal: SupervisorSignal }
  | { type: 'worker-exit'; worker: WorkerProcess; exit: WorkerExit }
  | { type: 'respawn'; slot: number }
  | { type: 'control'; request: ControlRequest; reply: (reply: ControlReply) => void };

type State = 'running' | 'reloading' | 'stopping';

export interface SupervisorEvents {
  /** Called once every worker is ready, with the URL served. */
  onReady?: (url: string) => void;
  /** Supervisor events for the user (worker died, reload done...): one line each. */
  log?: (line: string) => void;
}

export class Supervisor {
  readonly config: ServeConfig;
  readonly #queue = new EventQueue<SupervisorEvent>();
  readonly #slots: WorkerProcess[] = [];
  /** Every worker process alive, in a slot or not (a reload's newcomer before it takes its slot). */
  readonly #workers = new Set<WorkerProcess>();
  readonly #health: SlotHealth[] = [];
  readonly #startedAt = Date.now();
  readonly #log: (line: string) => void;
  #state: State = 'running';
  #dispatch: Dispatch | undefined;
  /** Ports the APP's own servers listen on besides --port (an admin server, say). */
  #appPorts: AppPorts | undefined;
  #control: net.Server | undefined;
  #exitCode = 0;
  #stopping: Promise<void> | undefined;
  #logd: LogDaemon | undefined;
  /** --metrics: the workers' reports, and the server scrapers read them from. */
  readonly #metrics: HerdMetrics | null;
  #metricsServer: http.Server | undefined;
  #metricsUrl: string | null = null;
  #reloads = 0;

  readonly #onReady: ((url: string) => void) | undefined;
  /** Health listener, shutdown delay, systemd: told of each lifecycle moment (deploy/lifecycle.ts). */
  readonly #lifecycle: DeployLifecycle;

  constructor(config: ServeConfig, events: SupervisorEvents = {}) {
    this.config = config;
    this.#log = events.log ?? ((line) => this.#errorLog(line));
    this.#onReady = events.onReady;
    this.#metrics = config.metrics ? new HerdMetrics() : null;
    this.#lifecycle = new DeployLifecycle(config, {
      log: (line) => this.#log(line),
      readyWorkers: () => this.#live().filter((w) => w.state === 'ready').length,
      reload: () => this.#queue.push({ type: 'signal', signal: 'SIGHUP' }),
      ownFiles: () => [config.accessLog, config.errorLog, config.pidFile, config.controlPath, this.#logSocket].filter((f): f is string => f !== null && f !== '-'),
    });
  }

  get url(): string {
    const host = this.config.host.includes(':') ? `[${this.config.host}]` : this.config.host;
    return `http://${host}:${this.#dispatch?.port ?? this.config.port}`;
  }

  /** Starts everything, runs the loop until stopped; resolves with the process exit code. */
  async run(): Promise<number> {
    const unlisten = listenForSignals((signal) => this.#queue.push({ type: 'signal', signal }));
    try {
      await this.#start();
    } catch (err) {
      unlisten();
      await this.#teardown();
      throw err;
    }
    this.#lifecycle.serving(this.url);
    this.#onReady?.(this.url);
    for await (const event of this.#queue) await this.#handle(event);
    unlisten();
    return this.#exitCode;
  }

  async #start(): Promise<void> {
    if (process.pid === 1) {
      // An init reaps every orphan; Node can wait only for children it spawned itself.
      this.#log('running as PID 1: herd cannot reap orphaned grandchildren (zombies would pile up); run it under an init: docker run --init, or tini');
    }
    this.#dispatch = await openDispatch(this.config);
    // Port 0 is resolved by the dispatch; every worker must use the port it found.
    this.config.port = this.#dispatch.port;
    if (this.config.listenFd !== null) this.config.host = this.#dispatch.host; // systemd's socket, wherever it is bound
    this.#appPorts = new AppPorts(this.config, this.#dispatch);
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
    await this.#lifecycle.open();
    if (this.config.pidFile) writePidFile(this.config.pidFile);
    for (let slot = 1; slot <= this.config.workers; slot++) {
      this.#health[slot] = new SlotHealth();
      this.#slots[slot] = this.#spawn(slot);
    }
    // Nothing half-started: if any worker cannot start, stop the others and report its reason.
    await Promise.all(this.#slots.slice(1).map((w) => w.ready));
    for (const worker of this.#slots.slice(1)) this.#dispatch.add(worker);
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
    const worker = new WorkerProcess(slot, { config: this.config, logSocket: this.#logd ? this.#logSocket : null }, this.#dispatch!.handleForWorker());
    this.#workers.add(worker);
    worker.onNotice = (line) => this.#log(`worker ${slot}: ${line}`);
    worker.onListen = (seq, host, port) => void this.#appPorts?.answer(worker, seq, host, port);
    const metrics = this.#metrics;
    if (metrics) worker.onMetrics = (snapshot) => metrics.report(slot, worker.pid, snapshot);
    worker.ready.then(() => this.#log(`worker ${slot} (pid ${worker.pid}) started`), () => {});
    if (this.config.startTimeoutMs > 0) {
      // Not a queue event: the loop does not run until every first worker is ready, which is when this
      // matters most. Killing a starting worker touches no slot; its exit is an event like any other.
      const timer = setTimeout(() => this.#onStartTimeout(worker), this.config.startTimeoutMs + START_TIMEOUT_GRACE_MS);
      const clear = () => clearTimeout(timer);
      worker.ready.then(clear, clear);
    }
    void worker.exited.then((exit) => {
      this.#workers.delete(worker);
      this.#metrics?.exited(worker.pid);
      this.#queue.push({ type: 'worker-exit', worker, exit });
    });
    return worker;
  }

  #request(request: ControlRequest): Promise<ControlReply> {
    return new Promise((reply) => this.#queue.push({ type: 'control', request, reply }));
  }

  async #handle(event: SupervisorEvent): Promise<void> {
    switch (event.type) {
      case 'signal':
        return this.#onMeaning(SIGNAL_MEANINGS[event.signal], event.signal);
      case 'worker-exit':
        return this.#onWorkerExit(event.worker, event.exit);
      case 'respawn':
        return this.#onRespawn(event.slot);
      case 'control':
        return this.#onControl(event.request, event.reply);
    }
  }

  #onMeaning(meaning: 'stop' | 'reload' | 'reopen-logs', signal?: SupervisorSignal): void {
    switch (meaning) {
      case 'stop':
        if (this.#state === 'stopping') {
          // A second INT/TERM while draining: the user does not want to wait.
          if (signal === 'SIGINT' || signal === 'SIGTERM') this.#forceStop();
          return;
        }
        this.#beginStop(0, signal !== 'SIGINT'); // Ctrl-C at a terminal: no balancer to wait for
        return;
      case 'reload':
        if (this.#state === 'running') void this.#rollingReload();
        else this.#log(`reload ignored: ${this.#state === 'reloading' ? 'a reload is already running' : 'stopping'}`);
        return;
      case 'reopen-logs':
        // logd owns every log file; workers only hold a socket to it, so they have nothing to reopen.
        this.#logd?.reopen();
        return;
    }
  }

  #onWorkerExit(worker: WorkerProcess, exit: WorkerExit): void {
    this.#dispatch?.remove(worker);
    this.#appPorts?.remove(worker);
    const slot = worker.id;
    const how = exit.signal ? `signal ${exit.signal}` : `code ${exit.code}`;
    // Expected: we asked it to drain (reload, stop), or it was replaced, or it never got a slot.
    if (worker.drainRequested || this.#slots[slot] !== worker || this.#state === 'stopping') {
      if (worker.drainRequested) this.#log(`worker ${slot} (pid ${worker.pid}) exited with ${how} after draining`);
      return;
    }
    const delay = this.#health[slot].recordDeath(worker.readyAt === undefined ? null : Date.now() - worker.readyAt);
    if (worker.fatal) this.#reportFatalOnce(slot, worker.fatal.message);
    if (delay === null) {
      const reason = worker.fatal?.message.split('\n')[0] ?? `exited with ${how}`;
      const line = `crash loop: worker ${slot} died ${this.#health[slot].youngDeaths} times in a row before or within a second of being ready; stopping. Its error: ${reason}`;
      this.#log(line);
      if (this.#logd) console.error(`herd: ${line}`); // the reason herd exits belongs on the terminal too
      this.#beginStop(1);
      return;
    }
    this.#log(`worker ${slot} (pid ${worker.pid}) exited with ${how}; respawning${delay ? ` in ${delay} ms` : ''}`);
    setTimeout(() => this.#queue.push({ type: 'respawn', slot }), delay).unref();
  }

  /** Still starting when its time ran out: an import that never finishes, a listen that never comes. */
  #onStartTimeout(worker: WorkerProcess): void {
    // A worker that already said why it cannot start (an APP that never listens) is leaving.
    if (worker.state !== 'starting' || worker.fatal) return;
    const app = this.config.app ? `APP ${path.relative(process.cwd(), this.config.app) || this.config.app}` : 'the worker';
    const seconds = this.config.startTimeoutMs / 1000;
    worker.fatal = {
      message: `${app} was not ready within ${seconds} s (--start-timeout); is it waiting on something that never answers, a top-level await or a database?`,
      code: 'ESTARTTIMEOUT',
    };
    worker.kill();
  }

  readonly #reportedFatals = new Set<string>();
  /** A worker's own error is printed once, not once per death of every worker. */
  #reportFatalOnce(slot: number, message: string): void {
    if (this.#reportedFatals.has(message)) return;
    this.#reportedFatals.add(message);
    this.#log(`worker ${slot}: ${message}`);
  }

  #onRespawn(slot: number): void {
    if (this.#state === 'stopping') return;
    const worker = this.#spawn(slot);
    this.#slots[slot] = worker;
    worker.ready.then(
      () => {
        if (this.#slots[slot] === worker && this.#state !== 'stopping') this.#dispatch?.add(worker);
      },
      () => {}, // its exit event reports it
    );
  }

  async #onControl(request: ControlRequest, reply: (reply: ControlReply) => void): Promise<void> {
    switch (request.command) {
      case 'status':
        void this.#status().then((status) => reply({ ok: true, status }));
        return;
      case 'reload':
        if (this.#state !== 'running') return reply({ ok: false, error: `cannot reload while ${this.#state}` });
        this.#onMeaning('reload');
        return reply({ ok: true, message: 'rolling reload started' });
      case 'stop':
        this.#onMeaning('stop');
        return reply({ ok: true, message: 'graceful stop started' });
      case 'reopen':
        this.#onMeaning('reopen-logs');
        return reply({ ok: true, message: 'log files reopened' });
    }
  }

  /** Workers in slots, serving or starting. */
  #live(): WorkerProcess[] {
    return this.#slots.filter((w) => w !== undefined && w.state !== 'exited');
  }

  /** Rolling reload: per slot, start the new worker, wait until it is ready, then drain the old. */
  async #rollingReload(): Promise<void> {
    this.#state = 'reloading';
    this.#reloads++;
    this.#log('reload: starting');
    this.#lifecycle.reloadBegan();
    if (this.config.dispatch === 'reuseport' && !tcpMigrateReq()) {
      this.#log('reload: with reuseport, connections queued on a closing worker socket are reset; set net.ipv4.tcp_migrate_req=1 (Linux 5.14+) to move them, or use --dispatch shared|handoff');
    }
    const graceMs = this.config.graceSeconds * 1000;
    let abandoned = false;
    for (let slot = 1; slot <= this.config.workers; slot++) {
      if (this.#state !== 'reloading') return;
      const fresh = this.#spawn(slot);
      try {
        await fresh.ready;
      } catch (err) {
        this.#log(`reload aborted: the new worker ${slot} did not start: ${(err as Error).message}`);
        fresh.kill();
        abandoned = true;
        break;
      }
      if (this.#state !== 'reloading') {
        fresh.kill();
        return;
      }
      const old = this.#slots[slot];
      this.#slots[slot] = fresh;
      this.#dispatch!.add(fresh);
      this.#dispatch!.remove(old);
      this.#appPorts?.remove(old);
      await old.drain(graceMs);
    }
    if (this.#state === 'reloading') {
      this.#state = 'running';
      this.#lifecycle.reloadEnded(abandoned);
      this.#log(abandoned ? 'reload: abandoned; the workers not replaced yet serve on' : 'reload: done');
    }
  }

  #beginStop(exitCode: number, mayDelay = false): void {
    this.#lifecycle.stopBegan(exitCode === 0 && mayDelay);
    this.#exitCode = Math.max(this.#exitCode, exitCode);
    this.#state = 'stopping';
    this.#stopping ??= this.#gracefulStop();
  }

  async #gracefulStop(): Promise<void> {
    const graceMs = this.config.graceSeconds * 1000;
    await this.#lifecycle.shutdownDelay(this.#workers);
    this.#log(`stop: draining ${this.#workers.size} worker${this.#workers.size === 1 ? '' : 's'} (grace ${this.config.graceSeconds} s)`);
    // Stop accepting first (handoff closes its listener), then let every worker drain.
    this.#dispatch?.close();
    this.#dispatch = undefined;
    this.#appPorts?.close();
    // Every process, including one a reload has started but not yet put in a slot.
    await Promise.all([...this.#workers].map((w) => w.drain(graceMs)));
    await this.#teardown();
    this.#queue.close();
  }

  #forceStop(): void {
    this.#lifecycle.hurry();
    this.#exitCode = Math.max(this.#exitCode, 1);
    for (const worker of this.#workers) worker.kill();
  }

  async #teardown(): Promise<void> {
    for (const worker of this.#workers) worker.kill();
    this.#dispatch?.close();
    this.#appPorts?.close();
    this.#control?.close();
    this.#metricsServer?.close();
    await this.#lifecycle.close();
    this.#metricsServer?.closeAllConnections(); // a scraper's keep-alive connection must not keep herd alive
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
      restarts: new Map(this.#health.flatMap((h, slot) => (h ? [[slot, h.restarts] as [number, number]] : []))),
      reloads: this.#reloads,
      handoffQueued: this.#dispatch?.queued?.() ?? null,
      accessLog: this.config.accessLog !== null,
      listenOverflows,
    }, openMetrics);
  }

  async #status(): Promise<Status> {
    const workers = this.#live();
    const stats = await Promise.all(workers.map((w) => w.stats()));
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
      reloading: this.#state === 'reloading',
      logd: this.#logd ? { pid: this.#logd.pid, restarts: this.#logd.restarts } : null,
      requests: total,
      workers: workers.map((w, i) => {
        const s = stats[i];
        const uptimeSec = (now - w.startedAt) / 1000;
        return {
          id: w.id,
          pid: w.pid,
          state: w.state,
          uptimeSec,
          connections: s?.connections ?? 0,
          requests: s?.requests ?? 0,
          share: total > 0 ? (s?.requests ?? 0) / total : 0,
          restarts: this.#health[w.id]?.restarts ?? 0,
          rssBytes: s?.rss ?? 0,
          cpuPercent: s && uptimeSec > 0 ? s.cpuMicros / 1e4 / uptimeSec : 0,
          logDropped: s?.logDropped ?? 0,
          durationCounts: this.#metrics?.latest(w.pid)?.durationCounts ?? null,
        };
      }),
    };
  }
}

/** Whether the kernel migrates a closing reuseport listener's queue to its siblings. */
function tcpMigrateReq(): boolean {
  try {
    return fs.readFileSync('/proc/sys/net/ipv4/tcp_migrate_req', 'utf8').trim() === '1';
  } catch {
    return false;
  }
}
