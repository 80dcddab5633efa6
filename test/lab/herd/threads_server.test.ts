// The threads model serves: N worker_threads in one process, each a loop of its own (named threads the
// counters find), every connection answered; an uncaught exception ends one loop, not the process.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { oneConnection } from '../../../src/lab/herd/connect_load.ts';
import { serverThreads } from '../../../src/lab/herd/server_threads.ts';
import { CRASH_APP } from '../../../src/lab/herd/threads_comparison.ts';
import { freePort } from '../../../src/lab/ports.ts';
import { startServer } from '../../../src/lab/running_server.ts';

test('threads model: 3 loops in one process serve every connection and outlive an uncaught exception in one', { timeout: 60_000 }, async (t) => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-threads-'));
  const host = '127.0.0.1';
  const port = await freePort(host);
  const server = await startServer({ id: 'threads-w3', kind: 'threads', engine: 'fast', dispatch: null, workers: 3 }, { host, port, workDir });
  t.after(async () => {
    await server.stop();
    fs.rmSync(workDir, { recursive: true, force: true });
  });
  const threads = serverThreads(server.pid, true);
  assert.equal(threads.loops.length, 3, 'three loop threads, found by name');
  assert.ok(threads.all.length > 3, 'node\'s own threads are there too');
  const first = await Promise.all(Array.from({ length: 30 }, () => oneConnection(host, port)));
  assert.equal(first.filter((r) => r === null).length, 0, 'every connection answered');

  assert.notEqual(await oneConnection(host, port, '/crash'), null, 'the crash request itself is answered');
  await new Promise((resolve) => setTimeout(resolve, 300));
  process.kill(server.pid, 0); // throws if the process died
  const later = await Promise.all(Array.from({ length: 30 }, () => oneConnection(host, port)));
  assert.equal(later.filter((r) => r === null).length, 0, 'the other loops (and the respawned one) serve');
  // The server reported the death and started a new loop in its place.
  for (let i = 0; i < 40 && serverThreads(server.pid, true).loops.length < 3; i++) await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(serverThreads(server.pid, true).loops.length, 3);
  assert.ok(fs.existsSync(CRASH_APP), 'the crash app the pool runs exists beside the lab');
});
