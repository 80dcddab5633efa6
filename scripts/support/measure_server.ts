// One benchmark cell: start a server model on a free port, warm it up with wrk, then measure
// requests/s and the server tree's CPU per request over a timed wrk run, and stop it. The server's
// CPU is read as `herd bench --server-pid` reads it (src/bench/server_usage.ts).
import type { ServerModel } from '../../src/lab/models.ts';
import { withServerUsage } from '../../src/bench/server_usage.ts';
import { freePort } from '../../src/lab/ports.ts';
import { startServer } from '../../src/lab/running_server.ts';
import { countersDelta, type ShareSource } from '../../src/lab/worker_share.ts';
import { runWrk } from './wrk.ts';

export interface CellOptions {
  host: string;
  workDir: string;
  close: boolean;
  seconds: number;
  warmupSeconds: number;
  connections: number;
  /** Requests per write, pipelined; absent: one at a time. */
  pipeline?: number;
}

export interface Measurement {
  rps: number;
  requests: number;
  cpuPerRequest: number;
  errors: number;
  /** What each worker did during the timed run (requests, or CPU for peers), when the model has workers. */
  perWorker: { counts: number[]; source: ShareSource } | null;
}

export async function measureUnderWrk(model: ServerModel, o: CellOptions): Promise<Measurement> {
  const port = await freePort(o.host);
  const server = await startServer(model, { host: o.host, port, workDir: o.workDir });
  try {
    const load = { connections: o.connections, close: o.close, pipeline: o.pipeline };
    await runWrk(server.url, { ...load, seconds: o.warmupSeconds }); // JIT, connections
    const countersBefore = await server.workerCounters();
    const { result: wrk, server: usage } = await withServerUsage([server.pid], () => runWrk(server.url, { ...load, seconds: o.seconds }), (r) => r.requests);
    const countersAfter = await server.workerCounters();
    const perWorker = countersBefore && countersAfter
      ? { counts: countersDelta(countersBefore.counters, countersAfter.counters), source: countersAfter.source }
      : null;
    return { rps: wrk.rps, requests: wrk.requests, cpuPerRequest: usage.cpuMicrosPerRequest, errors: wrk.errors, perWorker };
  } finally {
    await server.stop();
  }
}
