// The worker cycle: wait for `start`, load the app, serve through the dispatch mode, answer stats,
// drain on request. Runs in a child process forked by the supervisor; never started by hand.
import net from 'node:net';
import { describeListenError, HerdError } from '../errors.ts';
import type { ServeConfig } from '../config.ts';
import type { SupervisorMessage, WorkerMessage, WorkerStart, WorkerStats } from '../supervisor/messages.ts';
import type { Engine, EngineOptions } from './engine.ts';
import { loadApp, oneLine, type Listener } from './app_loader.ts';
import { createNodeEngine } from './node_engine.ts';
import { createFastEngine } from '../http/engine.ts';
import type { Handler } from '../http/types.ts';
import { withStatic } from '../http/static/index.ts';
import hello from './hello.ts';
import { createLogClient, type LogClient } from '../logd/client.ts';
import { RequestMetrics } from '../metrics/request_metrics.ts';

const LOG_FLUSH_TIMEOUT_MS = 5_000;
const ORPHAN_EXIT_MS = 1_000;
/** After an uncaught exception: long enough for logd to take the last batch, short enough to respawn soon. */
const CRASH_LOG_FLUSH_MS = 1_000;
/** --metrics: how often a worker reports; what it answered since its last report is lost to a kill -9. */
const METRICS_REPORT_MS = 1000;

const send = (message: WorkerMessage): void => {
  if (process.connected) process.send!(message);
};

// Ctrl-C reaches the whole process group; only the supervisor decides when a worker stops.
process.on('SIGINT', () => {});
process.on('SIGHUP', () => {});

let engine: Engine | undefined;
let log: LogClient | undefined;
let metrics: RequestMetrics | undefined;
let logRecords = 0;
let listener: net.Server | undefined;
let draining = false;
let closedSinceReport = 0;
let closedTimer: NodeJS.Timeout | undefined;

process.on('message', (message: SupervisorMessage, handle?: unknown) => {
  switch (message.t) {
    case 'start':
      start(message, handle).catch(fatal);
      break;
    case 'connection':
      acceptHandedOff(handle);
      break;
    case 'drain':
      void drain();
      break;
    case 'stats-request':
      send({ t: 'stats', seq: message.seq, stats: stats() });
      break;
  }
});

// The supervisor is gone (killed -9, say): stop accepting at once (the port is free when every worker
// has closed its listener), finish what we can and leave rather than serve unsupervised. Nobody will
// kill us after --grace any more, and logd has left too, so the worker gives itself ORPHAN_EXIT_MS.
process.on('disconnect', () => {
  setTimeout(() => process.exit(0), ORPHAN_EXIT_MS).unref();
  void drain();
});
process.on('SIGTERM', () => void drain());

process.on('uncaughtException', (err) => {
  // The process is done for; what it answered still gets its access line and counts before it goes.
  listener?.close();
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

async function start(message: WorkerStart, handle: unknown): Promise<void> {
  const { config } = message;
  const app = config.app === null ? (config.static ? null : (hello as Listener)) : await loadApp(config.app);
  // --static: files first, the app (if any) for the rest. Portable, so it runs on either engine.
  const handler = config.static ? (withStatic(config.static, app as Handler | null) as Listener) : app!;
  if (message.logSocket && config.accessLog !== null) {
    log = createLogClient({
      socketPath: message.logSocket,
      format: config.accessLogFormat,
      bufferBytes: config.logBufferBytes,
      onDropNotice: (dropped) => send({ t: 'notice', line: `access log: logd is behind; ${dropped} records dropped` }),
    });
  }
  if (config.metrics) {
    metrics = new RequestMetrics();
    setInterval(reportMetrics, METRICS_REPORT_MS).unref();
  }
  engine = await createEngine(config, handler);
  const server = engine.server;
  if (config.dispatch === 'handoff') {
    send({ t: 'ready' });
    return;
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    if (config.dispatch === 'shared') {
      if (!handle) return reject(new HerdError('shared dispatch: the supervisor sent no listening socket'));
      server.listen(handle as net.Server, config.backlog, resolve);
    } else {
      server.listen({ host: config.host, port: config.port, reusePort: true, backlog: config.backlog }, resolve);
    }
  }).catch((err: NodeJS.ErrnoException) => {
    throw err.code ? describeListenError(err, config.host, config.port) : err;
  });
  // Accept errors (EMFILE...) after listening must not kill the worker; node retries on the next event.
  server.on('error', (err) => console.error(`listener error: ${oneLine(err)}`));
  listener = server;
  send({ t: 'ready' });
}

async function createEngine(config: ServeConfig, handler: Listener): Promise<Engine> {
  const options: EngineOptions = {
    requestTimeoutMs: config.requestTimeoutMs,
    headersTimeoutMs: config.headersTimeoutMs,
    keepAliveTimeoutMs: config.keepAliveTimeoutMs,
    maxConnections: config.maxConnections,
    bodyLimit: config.bodyLimit,
    requestId: config.requestId,
    onAccess: onAccess(),
    onResponse: metrics ? (method, status, bytes, ms) => metrics!.record(method, status, bytes, ms) : undefined,
  };
  return config.engine === 'fast'
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

function reportMetrics(): void {
  if (!metrics) return;
  const snapshot = metrics.snapshot({ accepted: engine?.accepted() ?? 0, open: engine?.connections() ?? 0, logRecords, logDropped: log?.dropped() ?? 0 });
  send({ t: 'metrics', snapshot });
}

/**
 * handoff: the descriptor arrives as a bare handle. The reply goes out before the socket reads a
 * byte, so a connection the supervisor gives to another worker (declined, or this one died before
 * replying) was never read here. Declined: closing our copy leaves the connection open, the
 * supervisor holds another.
 */
function acceptHandedOff(handle: unknown): void {
  // Replies are matched to connections by order, so every message gets one, even without a handle.
  const taken = Boolean(handle) && engine !== undefined && !draining;
  send({ t: 'handoff-reply', taken });
  if (!handle) return;
  const socket = handle instanceof net.Socket ? handle : new net.Socket({ handle: handle as never, readable: taken, writable: taken });
  if (!taken) {
    socket.destroy();
    return;
  }
  socket.once('close', reportClosed);
  engine!.server.emit('connection', socket);
}

/** Least-connections needs the supervisor to know how many handed-off connections are still open. */
function reportClosed(): void {
  closedSinceReport++;
  closedTimer ??= setTimeout(() => {
    closedTimer = undefined;
    send({ t: 'closed', count: closedSinceReport });
    closedSinceReport = 0;
  }, 10);
}

function stats(): WorkerStats {
  const cpu = process.cpuUsage();
  return {
    pid: process.pid,
    connections: engine?.connections() ?? 0,
    requests: engine?.requests() ?? 0,
    rss: process.memoryUsage.rss(),
    cpuMicros: cpu.user + cpu.system,
    logDropped: log?.dropped() ?? 0,
  };
}

async function drain(): Promise<void> {
  if (draining) return;
  draining = true;
  listener?.close();
  if (engine) await engine.drain();
  // Every access line of the requests just finished reaches logd before the worker leaves.
  if (log) await log.flush(LOG_FLUSH_TIMEOUT_MS);
  if (closedTimer) clearTimeout(closedTimer);
  reportMetrics();
  sendThenExit({ t: 'closed', count: closedSinceReport }, 0);
}

function fatal(err: unknown): void {
  const isHerd = err instanceof HerdError;
  sendThenExit({ t: 'fatal', message: isHerd ? err.message : oneLine(err), code: isHerd ? err.code : 'WORKER_START' }, 1);
}
