// The herd counted on a small fixed case: 4 workers, 400 sequential connections, herd's shared
// dispatch against reuseport, judged relatively (no absolute figure is asserted: the machine is
// shared). 400, not fewer: /proc counts CPU in 10 ms clock ticks, and 40 connections to reuseport
// (about 4 ms of server CPU) could read as no CPU at all. Skips with a reason where neither perf (root, tracepoints) nor strace can count.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { chooseTracer } from '../../../src/lab/herd/experiment.ts';
import { measureHerdCell } from '../../../src/lab/herd/herd_cells.ts';
import type { HerdCell, HerdServer, HerdSettings } from '../../../src/lab/herd/herd_results.ts';
import { herdModel } from '../../../src/lab/herd/herd_servers.ts';
import { freePort } from '../../../src/lab/ports.ts';
import { startServer } from '../../../src/lab/running_server.ts';

const tracer = chooseTracer();
const CONNECTIONS = 400;
const SETTINGS: HerdSettings = {
  workers: [4],
  servers: ['herd-shared', 'herd-reuseport'],
  loads: ['sequential'],
  sequentialConnections: CONNECTIONS,
  bursts: 1,
  burstSize: 10,
  threadsWorkers: [],
  threadsRounds: 0,
  threadsSeconds: 1,
};

async function measure(server: HerdServer, workDir: string): Promise<HerdCell> {
  const host = '127.0.0.1';
  const port = await freePort(host);
  const running = await startServer(herdModel(server, 4), { host, port, workDir });
  try {
    return await measureHerdCell({ server, workers: 4, pid: running.pid, host, port }, 'sequential', SETTINGS, tracer, undefined);
  } finally {
    await running.stop();
  }
}

test(`4 workers, ${CONNECTIONS} sequential connections: a shared socket wakes more loops per connection than reuseport`, { skip: tracer === null ? 'neither perf (needs root and the syscalls/sched tracepoints) nor strace is usable here' : false, timeout: 90_000 }, async (t) => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-count-'));
  t.after(() => fs.rmSync(workDir, { recursive: true, force: true }));
  const shared = await measure('herd-shared', workDir);
  const reuseport = await measure('herd-reuseport', workDir);
  for (const cell of [shared, reuseport]) {
    t.diagnostic(`${cell.server}: ${cell.cpuMicrosPerConnection?.toFixed(1)} µs of server CPU per connection, p99 ${cell.p99Ms?.toFixed(2)} ms`);
    assert.equal(cell.tracer, tracer);
    assert.ok(cell.tracedConnections >= CONNECTIONS * 0.95, `${cell.server}: the traced run made its connections (${cell.tracedConnections})`);
    assert.ok(cell.connections >= CONNECTIONS * 0.95 && cell.cpuMicrosPerConnection! > 0 && cell.p99Ms! > 0, `${cell.server}: the untraced run measured CPU (${cell.cpuMicrosPerConnection} µs per connection) and latency (p99 ${cell.p99Ms} ms)`);
  }
  if (tracer === 'perf') {
    // Each connection wakes every sleeping worker of the shared socket; reuseport wakes one.
    assert.ok(shared.schedWakeupsPerConnection! > reuseport.schedWakeupsPerConnection! + 1,
      `scheduler wake-ups per connection: shared ${shared.schedWakeupsPerConnection} against reuseport ${reuseport.schedWakeupsPerConnection}`);
  }
  // The accept count: where some worker did reach accept() for nothing, it was the shared one.
  if (shared.wastedWakeupsPerConnection! + reuseport.wastedWakeupsPerConnection! > 0) {
    assert.ok(shared.wastedWakeupsPerConnection! > reuseport.wastedWakeupsPerConnection!,
      `wasted (EAGAIN) wake-ups per connection: shared ${shared.wastedWakeupsPerConnection} against reuseport ${reuseport.wastedWakeupsPerConnection}`);
  } else {
    t.diagnostic('no EAGAIN accept in either run: the woken workers slept again inside epoll_wait (the scheduler count shows them)');
  }
});
