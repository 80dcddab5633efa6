// npm run bench:logd — one run, one load generator (wrk), keep-alive, 2 workers, the built-in hello
// app: server CPU microseconds per request (utime+stime of herd's whole process tree from /proc,
// logd included) with access logging off and on (combined format, to a file). Prints both, the
// ratio, records dropped (from `herd status`), and checks that the file holds one line per request
// served. Target (issue 4): at most 10% more CPU per request with logging on, zero drops.
//
// This machine's speed drifts by 10–30% over tens of seconds, more than the difference measured, so
// the two servers run side by side and wrk loads them in turn, in short slices: off, on, on, off, …
// Each pair of neighbouring slices is a round; the median of the rounds' ratios decides, and the
// ratio of the totals is printed beside it. A server waits unloaded (near zero CPU) while the other
// is measured, and each slice ends only once the worker's last batch of records has been written.
// Environment: BENCH_ROUNDS (default 8), BENCH_SECONDS per slice (default 3), BENCH_CONNECTIONS (default 50).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { treeCpuMicros } from '../src/lab/process_cpu.ts';
import { freePort } from '../src/lab/ports.ts';
import { spawnGroup, stopAllGroups, stopGroup } from '../src/lab/process_group.ts';
import { sendControl } from '../src/supervisor/control_client.ts';
import type { Status } from '../src/supervisor/control_protocol.ts';
import { median } from '../src/bench/slice_stats.ts';
import { requireWrk, runWrk } from './support/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 8));
const HOST = '127.0.0.1';
const HERD = fileURLToPath(new URL('../src/cli/herd.ts', import.meta.url));
/** Longer than the log client's send delay: the slice's last records reach the file before its CPU is read. */
const SETTLE_MS = 200;

interface Server {
  logging: string;
  child: ChildProcess;
  url: string;
  control: string;
}

interface Slice {
  requests: number;
  cpuMicros: number;
  logdCpuMicros: number;
  rps: number;
}

async function status(control: string): Promise<Status> {
  const reply = await sendControl(control, 'status');
  if (!reply.ok || !('status' in reply)) throw new Error(`herd status failed: ${JSON.stringify(reply)}`);
  return reply.status;
}

function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`herd serve did not start:\n${output}`)), 20_000);
    const onData = (d: Buffer): void => {
      output += d;
      const m = /(http:\/\/[^\s]+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]!.replace(/\/?$/, '/'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`herd serve exited (${code}):\n${output}`)));
  });
}

async function startServer(accessLog: string | null, workDir: string): Promise<Server> {
  const port = await freePort(HOST);
  const control = path.join(workDir, `control-${accessLog ? 'on' : 'off'}.sock`);
  const args = [HERD, 'serve', '--host', HOST, '--port', String(port), '--workers', '2', '--control', control, '--grace', '2'];
  args.push('--access-log', accessLog ?? 'off');
  const child = spawnGroup(process.execPath, args);
  const url = await waitForUrl(child);
  return { logging: accessLog ? 'on (combined, file)' : 'off', child, url, control };
}

async function measureSlice(server: Server): Promise<Slice> {
  const before = await status(server.control);
  const logdPid = before.logd?.pid ?? null;
  const logdBefore = logdPid ? treeCpuMicros(logdPid) : 0;
  const cpuBefore = treeCpuMicros(server.child.pid!);
  const wrk = await runWrk(server.url, { seconds: SECONDS, connections: CONNECTIONS });
  await sleep(SETTLE_MS);
  const cpuAfter = treeCpuMicros(server.child.pid!);
  const logdAfter = logdPid ? treeCpuMicros(logdPid) : 0;
  const after = await status(server.control);
  return { requests: after.requests - before.requests, cpuMicros: cpuAfter - cpuBefore, logdCpuMicros: logdAfter - logdBefore, rps: wrk.rps };
}

function perRequest(s: Slice): number {
  return s.cpuMicros / s.requests;
}

function total(slices: Slice[]): Slice {
  const sum = (f: (s: Slice) => number): number => slices.reduce((n, s) => n + f(s), 0);
  return { requests: sum((s) => s.requests), cpuMicros: sum((s) => s.cpuMicros), logdCpuMicros: sum((s) => s.logdCpuMicros), rps: median(slices.map((s) => s.rps)) };
}

async function main(): Promise<void> {
  requireWrk();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-logd-'));
  const accessLog = path.join(workDir, 'access.log');
  try {
    console.log(`bench:logd — wrk -c ${CONNECTIONS} keep-alive, herd serve --workers 2, hello world; ${os.cpus().length} CPUs; ${ROUNDS} rounds of a ${SECONDS} s slice per server, off and on in turn`);
    const off = await startServer(null, workDir);
    const on = await startServer(accessLog, workDir);
    for (const server of [off, on]) await runWrk(server.url, { seconds: 1, connections: CONNECTIONS }); // warm-up: JIT, connections
    const rounds: Array<{ off: Slice; on: Slice }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      // Alternate which goes first, so that neither always follows the other.
      if (round % 2 === 0) {
        const a = await measureSlice(off);
        rounds.push({ off: a, on: await measureSlice(on) });
      } else {
        const b = await measureSlice(on);
        rounds.push({ off: await measureSlice(off), on: b });
      }
    }
    const final = await status(on.control);
    const dropped = final.workers.reduce((n, w) => n + w.logDropped, 0);
    await Promise.all([stopGroup(off.child, 10_000), stopGroup(on.child, 10_000)]); // graceful: workers flush, logd writes
    const lines = fs.readFileSync(accessLog, 'latin1').split('\n').length - 1;

    console.log('');
    console.log('| round | access log | requests/s | server CPU µs/request | of which logd | requests |');
    console.log('|---:|---|---:|---:|---:|---:|');
    const row = (label: string, k: string, s: Slice, logd: boolean): void =>
      console.log(`| ${k} | ${label} | ${Math.round(s.rps)} | ${perRequest(s).toFixed(2)} | ${logd ? (s.logdCpuMicros / s.requests).toFixed(2) : '-'} | ${s.requests} |`);
    rounds.forEach((r, k) => {
      row(off.logging, String(k + 1), r.off, false);
      row(on.logging, String(k + 1), r.on, true);
    });
    const offTotal = total(rounds.map((r) => r.off));
    const onTotal = total(rounds.map((r) => r.on));
    row(off.logging, 'all', offTotal, false);
    row(on.logging, 'all', onTotal, true);

    const ratios = rounds.map((r) => perRequest(r.on) / perRequest(r.off));
    const ratio = median(ratios);
    console.log('');
    console.log(`each round, on / off: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
    console.log(`all rounds together, on / off: ${(perRequest(onTotal) / perRequest(offTotal)).toFixed(3)}`);
    console.log(`CPU per request, logging on / off (median of the rounds): ${ratio.toFixed(3)} (target <= 1.10): ${ratio <= 1.1 ? 'met' : 'NOT met'}`);
    console.log(`drops at full load: ${dropped} (target 0): ${dropped === 0 ? 'met' : 'NOT met'}`);
    const served = final.requests;
    console.log(`lines in file (${lines}) = requests served (${served}) - dropped (${dropped}): ${lines === served - dropped ? 'yes' : 'NO'}`);
  } finally {
    await stopAllGroups();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
