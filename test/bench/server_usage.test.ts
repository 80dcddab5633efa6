// --server-pid's accounting: CPU of a process and all its descendants, read from /proc, against a
// process tree that burns a known amount of CPU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { checkServerPids, sampleServer, withServerUsage } from '../../src/bench/server_usage.ts';
import { clockTicksPerSecond } from '../../src/proc/process_stat.ts';
import { HerdError, UsageError } from '../../src/errors.ts';

const BURNER = fileURLToPath(new URL('./fixtures/cpu_burner.ts', import.meta.url));
const BURN_MS = 300;
const hasProc = fs.existsSync('/proc/self/stat');

test('a tree that burns 2 × 300 ms of CPU is counted at 600 ms, give or take a few clock ticks', { skip: hasProc ? false : 'needs /proc (Linux)', timeout: 30_000 }, async (t) => {
  const burner = fork(BURNER, [String(BURN_MS)], { detached: true, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  t.after(() => {
    try {
      process.kill(-burner.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  await new Promise((resolve) => burner.once('message', resolve));
  const { result, server } = await withServerUsage([burner.pid!], async () => {
    burner.send('burn');
    await new Promise((resolve) => burner.once('message', resolve));
    return 100;
  }, (requests) => requests);
  assert.equal(result, 100);
  assert.equal(server.processes, 2, 'the burner and its child');
  const tick = 1e6 / clockTicksPerSecond();
  const expected = 2 * BURN_MS * 1000;
  // Each process's own cpuUsage() said it burnt BURN_MS; /proc rounds to ticks, and the IPC
  // around the burn costs a little more, never less.
  assert.ok(server.cpuMicros >= expected - 4 * tick, `${server.cpuMicros} µs counted, ${expected} burnt`);
  assert.ok(server.cpuMicros <= expected + 150_000, `${server.cpuMicros} µs counted, ${expected} burnt`);
  assert.equal(server.cpuMicrosPerRequest, server.cpuMicros / 100);
  assert.ok(server.rssBytes > 10 * 1048576, `two node processes hold more than 10 MiB, got ${server.rssBytes}`);
});

test('the same process given twice is counted once', { skip: hasProc ? false : 'needs /proc (Linux)' }, async (t) => {
  // A process of its own with no children: the test runner's own tree changes as other tests' children come and go.
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  assert.equal(sampleServer([child.pid!]).processes, 1);
  assert.equal(sampleServer([child.pid!, child.pid!]).processes, 1);
});

test('a pid that names no process is a UsageError', { skip: hasProc ? false : 'needs /proc (Linux)' }, () => {
  assert.throws(() => checkServerPids([process.pid, 2 ** 31 - 2]), (err) => err instanceof UsageError && /--server-pid 2147483646: no such process/.test(err.message));
});

test('a server that exits during the run is an error, not a negative CPU figure', { skip: hasProc ? false : 'needs /proc (Linux)', timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 200)'], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('spawn', resolve));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await assert.rejects(
    withServerUsage([child.pid!], async () => exited, () => 1),
    (err) => err instanceof HerdError && /the server exited during the run/.test(err.message),
  );
});
