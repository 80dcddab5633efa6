// One loop of the threads model: a worker_thread with its own event loop, its own SO_REUSEPORT
// listening socket and herd's fast engine, serving the lab's crash app. Started by threads_server.ts.
import type net from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { DEFAULTS } from '../../config.ts';
import { createFastEngine } from '../../http/engine.ts';
import type { Handler } from '../../http/types.ts';
import crashApp from './crash_app.ts';

export interface LoopData {
  host: string;
  port: number;
}

const { host, port } = workerData as LoopData;
const engine = createFastEngine(crashApp as Handler, {
  requestTimeoutMs: DEFAULTS.requestTimeoutMs,
  headersTimeoutMs: DEFAULTS.headersTimeoutMs,
  keepAliveTimeoutMs: DEFAULTS.keepAliveTimeoutMs,
  maxConnections: DEFAULTS.maxConnections,
  bodyLimit: DEFAULTS.bodyLimit,
});
engine.server.listen({ host, port, reusePort: true, backlog: DEFAULTS.backlog }, () => {
  parentPort!.postMessage({ t: 'listening', port: (engine.server.address() as net.AddressInfo).port });
});
