// The worker cycle: wait for `start`, load the app, serve through the dispatch mode, answer stats,
// drain on request. Runs in a child process forked by the supervisor; never started by hand.
//
// An APP is served one of two ways. It starts its own server(s): every listen() is taken over
// (listen_takeover.ts) and each server is watched (server_watch.ts). Or it exports a request
// listener: herd's engine serves it on the dispatch. If its top level did neither, it has
// --start-timeout to call listen() (after connecting to a database, say).
import type net from 'node:net';
import { describeListenError, HerdError } from '../errors.ts';
import type { ServeConfig } from '../config.ts';
import type { SupervisorMessage, WorkerMessage, WorkerStart, WorkerStats } from '../supervisor/messages.ts';
import type { Engine, EngineOptions } from './engine.ts';
import { importApp, isExpressApp, listenerOf, oneLine, shownAppPath, type Listener } from './app_loader.ts';
import { createNodeEngine } from './node_engine.ts';
import { createFastEngine } from '../http/engine.ts';
import type { Handler } from '../http/types.ts';
import { withStatic } from '../http/static/index.ts';
import hello from './hello.ts';
import { createLogClient, type LogClient } from '../logd/client.ts';
import { appListenCalls, listenAsHerd, takeOverListen, type ListenReply } from './listen_takeover.ts';
import { ServerWatch } from './server_watch.ts';
import { appHandlesStopSignal, emitStopSignalToApp, holdAppSignalListeners } from './app_signals.ts';
import { RequestMetrics } from '../metrics/request_metrics.ts';
import { markClosing, watchAppServerHealth, withWorkerHealth } from '../health/worker_side.ts';
import { listenOnSocket } from '../dispatch/reuseport.ts';
import type { RawConnectionHandle, RawListenHandle, ReceivedHandle } from '../dispatch/raw_listen_handle.ts';
import { HandoffReceiver } from '../dispatch/handoff.ts';
import { engineTransport, stepsBeforeAppServer } from '../transport/connection_front.ts';
import { TrustedProxies } from '../transport/trusted_proxies.ts';
import { noteHeaderRead } from '../transport/proxy_header.ts';

const LOG_FLUSH_TIMEOUT_MS = 5_000;
const ORPHAN_EXIT_MS = 1_000;
/** After an uncaught exception: long enough for logd to take the last batch, short enough to respawn soon. */
const CRASH_LOG_FLUSH_MS = 1_000;
/** --metrics: how often a worker reports; what it answered since its last report is lost to a kill -9. */
const METRICS_REPORT_MS = 1000;

const send = (message: WorkerMessage): void => {
  if (process.connected) process.send!(message);
};

/** What the worker serves and drains: its engine, or each server the APP listen()ed. */
interface Served {
  server: net.Server;
  connections(): number;
  requests(): number;
  accepted(): number;
  drain(): Promise<void>;
  allClosed(): Promise<void>;
  destroyAll(): void;
}

let config: ServeConfig | undefined;
const served: Served[] = [];
let log: LogClient | undefined;
let metrics: RequestMetrics | undefined;
let logRecords = 0;
let draining = false;
let readySent = false;
/** handoff: the connections the supervisor hands this worker, for herd's port and the APP's. */
const handoff = new HandoffReceiver(send);
const pendingListens = new Map<number, (reply: ListenReply, handle: ReceivedHandle | undefined) => void>();
let listenSeq = 0;
let firstListening: (() => void) | undefined;

// The one place a received handle gets its type: the message says which kind it is.
process.on('message', (message: SupervisorMessage, handle?: ReceivedHandle) => {
  switch (message.t) {
    case 'start':
      start(message, handle as RawListenHandle | undefined).catch(fatal);
      break;
    case 'connection':
      if (message.proxied && handle) noteHeaderRead(handle as object, message.proxied);
      handoff.accept(message.port, handle as RawConnectionHandle | undefined);
      break;
    case 'listen-reply':
      pendingListens.get(message.seq)?.(message, handle);
      pendingListens.delete(message.seq);
      break;
    case 'drain':
      void drain();
      break;
    case 'closing':
      markClosing();
      break;
    case 'stats-request':
      send({ t: 'stats', seq: message.seq, stats: stats() });
      break;
    case 'ping':
      send({ t: 'pong', seq: message.seq, rss: process.memoryUsage.rss() });
      break;
  }
});

// The supervisor is gone (killed -9, say): stop accepting at once (the port is free when every worker
// has closed its listener), finish what we can and leave rather than serve unsupervised. Nobody will
// kill us after --grace any more, and logd has left too, so the worker gives itself ORPHAN_EXIT_MS.
// (drain() disconnects itself after an app's own stop handlers: that is no orphan.)
let leavingOnPurpose = false;
process.on('disconnect', () => {
  if (!leavingOnPurpose) setTimeout(() => process.exit(0), ORPHAN_EXIT_MS).unref();
  void drain();
});
// A stop signal, to this worker or to the whole process group (Ctrl-C, a container runtime):
// drain, as when the supervisor asks. SIGHUP (the terminal closing) is the supervisor's to judge.
for (const signal of ['SIGTERM', 'SIGINT', 'SIGQUIT'] as const) process.on(signal, () => void drain());
process.on('SIGHUP', () => {});
// From here on, an APP's own SIGTERM/SIGINT handlers wait for the drain (app_signals.ts).
holdAppSignalListeners();

process.on('uncaughtException', (err) => {
  // A port the supervisor could not serve reaches an app that does not handle 'error': its one line.
  if (err instanceof HerdError) return sendThenExit({ t: 'fatal', message: err.message, code: err.code }, 1);
  // The process is done for; what it answered still gets its access line and counts before it goes.
  for (const s of served) if (s.server.listening) s.server.close();
  reportMetrics();
  const message: WorkerMessage = { t: 'fatal', message: `uncaught exception: ${err.stack ?? oneLine(err)}`, code: 'UNCAUGHT' };
  if (!log) return sendThenExit(message, 1);
  void log.flush(CRASH_LOG_FLUSH_MS).finally(() => sendThenExit(message, 1));
});

/** process.send is asynchronous: exit only once the message has left, or it may be lost. */
function sendThenExit(message: WorkerMessage, code: number): void {
  if (!process.connected) process.exit(code);
  process.send!(message, () => process.exit(code));
}

function ready(): void {
  if (readySent) return;
  readySent = true;
  send({ t: 'ready' });
}

async function start(message: WorkerStart, handle: RawListenHandle | undefined): Promise<void> {
  config = message.config;
  const cfg = config;
  if (message.logSocket && cfg.accessLog !== null) {
    log = createLogClient({
      socketPath: message.logSocket,
      format: cfg.accessLogFormat,
      bufferBytes: cfg.logBufferBytes,
      onDropNotice: (dropped) => send({ t: 'notice', line: `access log: logd is behind; ${dropped} records dropped` }),
    });
  }
  if (cfg.metrics) {
    metrics = new RequestMetrics();
    setInterval(reportMetrics, METRICS_REPORT_MS).unref();
  }
  if (cfg.app === null) return serveListener(cfg, cfg.static ? null : (hello as Listener), handle);
  takeOverListen({
    ask: askSupervisor,
    defaultHost: cfg.host,
    backlog: cfg.backlog,
    onListening: (server) => adoptAppServer(cfg, server, message.id),
    handoff,
  });
  const listening = new Promise<void>((resolve) => (firstListening = resolve));
  const exported = await importApp(cfg.app);
  if (appListenCalls() === 0 && exported !== undefined) return serveListener(cfg, listenerOf(cfg.app, exported), handle);
  // It listens (or will): ready once its first server does. Say why before the supervisor's
  // --start-timeout kills the worker (0: no limit, so it may call listen() whenever it likes).
  if (cfg.startTimeoutMs === 0) return listening;
  // performance.now() is this process's age; the supervisor waits START_TIMEOUT_GRACE_MS longer.
  const waitMs = Math.max(0, cfg.startTimeoutMs - performance.now());
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), waitMs)));
  const outcome = await Promise.race([listening, timedOut]);
  clearTimeout(timer);
  if (outcome === 'timeout') {
    const shown = shownAppPath(cfg.app);
    const what = appListenCalls() > 0 ? 'called listen() but no server was listening' : 'did not call listen() and has no default export';
    throw new HerdError(`APP ${shown} ${what} within ${cfg.startTimeoutMs / 1000} s (--start-timeout); start a server with app.listen(process.env.PORT), or export default a request listener (req, res) => { ... }`, 'APP_NO_SERVER');
  }
}

/** The APP's own server listens on its share of a port: herd counts, times, logs and drains it. */
function adoptAppServer(cfg: ServeConfig, server: net.Server, workerId: number): void {
  if (served.some((s) => s.server === server)) return;
  // PROXY header and herd's TLS first; herd's watch, attached after, counts each socket at accept.
  stepsBeforeAppServer(server, cfg);
  const watch = new ServerWatch(server, {
    requestTimeoutMs: cfg.requestTimeoutMs,
    bodyTimeoutMs: cfg.bodyTimeoutMs,
    idleTimeoutMs: cfg.idleTimeoutMs,
    requestId: cfg.requestId,
    onAccess: onAccess(),
    onResponse: onResponse(),
    onCut: (line) => console.error(`herd cut a response: ${line}`),
    clientAddress: clientAddress(cfg),
  });
  leaveBodiesToHerd(server);
  watchAppServerHealth(server, cfg.healthPath);
  served.push({
    server,
    connections: () => watch.connections(),
    requests: () => watch.requests(),
    accepted: () => watch.accepted(),
    drain: () => watch.drainRequests(),
    allClosed: () => watch.allClosed(),
    destroyAll: () => watch.destroyAll(),
  });
  if (!readySent && cfg.engine === 'fast' && workerId === 1) {
    send({ t: 'notice', line: 'APP starts its own server, which runs on node:http: --engine fast applies only to an APP that exports a request listener; use --engine node' });
  }
  if (!readySent && cfg.http2 && workerId === 1 && !/^Http2(Secure)?Server$/.test(server.constructor.name)) {
    send({ t: 'notice', line: "--http2 applies to herd's node engine: the APP's own server answers in the protocols it offers itself (HTTP/1.1 over herd's TLS for a cleartext server)" });
  }
  firstListening?.();
  ready();
}

/**
 * node:http's own requestTimeout (300 s by default) would cut a slow upload, and its default
 * headersTimeout is not herd's; herd's --body-timeout and --request-timeout bound those. A value
 * the app set itself is left alone.
 */
function leaveBodiesToHerd(server: net.Server): void {
  const s = server as net.Server & { requestTimeout?: number; headersTimeout?: number };
  if (s.requestTimeout === 300_000) s.requestTimeout = 0;
  if (s.headersTimeout === 60_000 && config) s.headersTimeout = config.headersTimeoutMs;
}

function askSupervisor(host: string, port: number): Promise<{ reply: ListenReply; handle: ReceivedHandle | undefined }> {
  const seq = ++listenSeq;
  return new Promise((resolve) => {
    pendingListens.set(seq, (reply, handle) => resolve({ reply, handle }));
    send({ t: 'listen', seq, host, port });
  });
}

/** A default-export APP (or the built-in one) on herd's engine, on the main dispatch. */
async function serveListener(cfg: ServeConfig, app: Listener | null, handle: RawListenHandle | undefined): Promise<void> {
  // --static: files first, the app (if any) for the rest. Portable, so it runs on either engine.
  const handler = cfg.static ? (withStatic(cfg.static, app as Handler | null) as Listener) : app!;
  if (cfg.engine === 'fast' && app !== null && isExpressApp(app)) {
    throw new HerdError(`APP ${shownAppPath(cfg.app!)} is an Express app, which needs node:http's request and response: run it with --engine node (the default for an APP)`, 'APP_NEEDS_NODE');
  }
  const transport = engineTransport(cfg);
  const engine = createEngine(cfg, withWorkerHealth(handler, cfg.healthPath), transport.node);
  // What the dispatch feeds: the engine's server, or a front that reads PROXY headers / does TLS first.
  const front = transport.front(engine.server);
  const server = front.server;
  listenAsHerd(server);
  served.push({
    server,
    connections: () => engine.connections(),
    requests: () => engine.requests(),
    accepted: () => engine.accepted(),
    drain: () => front.settled().then(() => engine.drain()),
    allClosed: () => (engine.allClosed ? engine.allClosed() : engine.drain()),
    destroyAll: () => engine.destroyAll(),
  });
  if (cfg.dispatch === 'handoff') {
    handoff.serve(cfg.port, server);
    ready();
    return;
  }
  // reuseport: the slot's own socket; shared: the one socket. Both bound by the supervisor.
  if (!handle) throw new HerdError(`${cfg.dispatch} dispatch: the supervisor sent no listening socket`);
  await listenOnSocket(server, handle, cfg.backlog).catch((err: NodeJS.ErrnoException) => {
    throw err.code ? describeListenError(err, cfg.host, cfg.port) : err;
  });
  // Accept errors (EMFILE...) after listening must not kill the worker; node retries on the next event.
  server.on('error', (err) => console.error(`listener error: ${oneLine(err)}`));
  ready();
}

function createEngine(cfg: ServeConfig, handler: Listener, transport: EngineOptions['transport']): Engine {
  const options: EngineOptions = {
    requestTimeoutMs: cfg.requestTimeoutMs,
    headersTimeoutMs: cfg.headersTimeoutMs,
    keepAliveTimeoutMs: cfg.keepAliveTimeoutMs,
    maxConnections: cfg.maxConnections,
    bodyLimit: cfg.bodyLimit,
    bodyTimeoutMs: cfg.bodyTimeoutMs,
    idleTimeoutMs: cfg.idleTimeoutMs,
    onCut: (line) => console.error(`herd cut a response: ${line}`),
    requestId: cfg.requestId,
    onAccess: onAccess(),
    onResponse: onResponse(),
    transport,
    clientAddress: clientAddress(cfg),
  };
  return cfg.engine === 'fast'
    ? createFastEngine(handler as Handler, options)
    : createNodeEngine(handler as Parameters<typeof createNodeEngine>[0], options);
}

/** The access log's hook; each record handed to the log client is counted for --metrics. */
function onAccess(): EngineOptions['onAccess'] {
  const l = log;
  if (!l) return undefined;
  if (!metrics) return (record) => l.access(record);
  return (record) => {
    logRecords++;
    l.access(record);
  };
}

/** --trust-proxy: the logged client of a request, from its peer and X-Forwarded-For. */
function clientAddress(cfg: ServeConfig): EngineOptions['clientAddress'] {
  if (cfg.trustProxy.length === 0) return undefined;
  const proxies = new TrustedProxies(cfg.trustProxy);
  return (peer, forwardedFor) => proxies.clientOf(peer, forwardedFor);
}

function onResponse(): EngineOptions['onResponse'] {
  const m = metrics;
  return m ? (method, status, bytes, ms) => m.record(method, status, bytes, ms) : undefined;
}

function reportMetrics(): void {
  if (!metrics) return;
  let accepted = 0;
  let open = 0;
  for (const s of served) {
    accepted += s.accepted();
    open += s.connections();
  }
  send({ t: 'metrics', snapshot: metrics.snapshot({ accepted, open, logRecords, logDropped: log?.dropped() ?? 0 }) });
}

function stats(): WorkerStats {
  const cpu = process.cpuUsage();
  let connections = 0;
  let requests = 0;
  for (const s of served) {
    connections += s.connections();
    requests += s.requests();
  }
  return {
    pid: process.pid,
    connections,
    requests,
    rss: process.memoryUsage.rss(),
    cpuMicros: cpu.user + cpu.system,
    logDropped: log?.dropped() ?? 0,
  };
}

/**
 * Stop accepting; let in-flight requests finish; flush the access log; then run the APP's own
 * SIGTERM handlers (its database pool closes after the last request that needed it); WebSockets
 * and other upgraded connections get what is left of --grace, then are closed.
 */
async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  markClosing();
  const graceMs = (config?.graceSeconds ?? 30) * 1000;
  // Leave before the supervisor's SIGKILL at --grace, so herd closes what is open, not the kernel.
  const deadline = Date.now() + graceMs - Math.min(1000, graceMs / 10);
  const until = <T>(work: Promise<T>): Promise<T | void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, Math.max(0, deadline - Date.now()))));
    return Promise.race([work, late]).finally(() => clearTimeout(timer));
  };
  for (const s of served) if (s.server.listening) s.server.close();
  handoff.stop();
  await until(Promise.all(served.map((s) => s.drain())));
  // Every access line of the requests just finished reaches logd before the worker leaves.
  if (log) await log.flush(Math.min(LOG_FLUSH_TIMEOUT_MS, Math.max(0, deadline - Date.now())));
  reportMetrics();
  const appStops = appHandlesStopSignal();
  // The app's handler may call process.exit(): everything herd owes is done by now.
  if (appStops) await until(emitStopSignalToApp());
  await until(Promise.all(served.map((s) => s.allClosed())));
  for (const s of served) s.destroyAll();
  if (!appStops) return sendThenExit({ t: 'closed', count: handoff.takeUnreported() }, 0);
  // The app's handlers may still be closing things (a pool.end(callback)): leave when its event
  // loop is empty, as a Node process does, or at the deadline.
  log?.close();
  setTimeout(() => process.exit(0), Math.max(0, deadline - Date.now())).unref();
  leavingOnPurpose = true;
  if (process.connected) process.send!({ t: 'closed', count: handoff.takeUnreported() }, () => process.disconnect());
}

function fatal(err: unknown): void {
  const isHerd = err instanceof HerdError;
  sendThenExit({ t: 'fatal', message: isHerd ? err.message : oneLine(err), code: isHerd ? err.code : 'WORKER_START' }, 1);
}
