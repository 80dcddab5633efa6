// npm run bench:logd — one run, one load generator (wrk), keep-alive, 2 workers, the built-in hello
// app: server CPU microseconds per request (utime+stime of herd's whole process tree from /proc,
// logd included) with access logging off, then on (combined format, to a file). Prints both, the
// ratio, records dropped (from `herd status`), and checks that the file holds one line per request
// served. Target (issue 4): at most 10% more CPU per request with logging on, zero drops.
// Environment: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 1:
// with N, off and on are measured N times, interleaved, and the median ratio of the rounds decides).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeCpuMicros } from '../src/lab/process_cpu.ts';
import { freePort } from '../src/lab/ports.ts';
import { spawnGroup, stopAllGroups, stopGroup } from '../src/lab/process_group.ts';
import { sendControl } from '../src/supervisor/control_client.ts';
import type { Status } from '../src/supervisor/control_protocol.ts';
import { median } from './support/median.ts';
import { requireWrk, runWrk } from './support/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const HOST = '127.0.0.1';
const HERD = fileURLToPath(new URL('../src/cli/herd.ts', import.meta.url));

interface Row {
  logging: string;
  rps: number;
  cpuPerRequest: number;
  served: number;
  dropped: number;
  lines: number | null;
  /** logd's own share of cpuPerRequest. */
  logdCpuPerRequest: number | null;
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

async function measure(accessLog: string | null, workDir: string): Promise<Row> {
  const port = await freePort(HOST);
  const control = path.join(workDir, `control-${accessLog ? 'on' : 'off'}.sock`);
  const args = [HERD, 'serve', '--host', HOST, '--port', String(port), '--workers', '2', '--control', control, '--grace', '2'];
  args.push('--access-log', accessLog ?? 'off');
  const child = spawnGroup(process.execPath, args);
  try {
    const url = await waitForUrl(child);
    await runWrk(url, { seconds: 1, connections: CONNECTIONS }); // warm-up: JIT, connections
    const before = await status(control);
    const logdPid = before.logd?.pid ?? null;
    const logdBefore = logdPid ? treeCpuMicros(logdPid) : 0;
    const cpuBefore = treeCpuMicros(child.pid!);
    const wrk = await runWrk(url, { seconds: SECONDS, connections: CONNECTIONS });
    const cpuAfter = treeCpuMicros(child.pid!);
    const logdAfter = logdPid ? treeCpuMicros(logdPid) : 0;
    const after = await status(control);
    const served = after.requests - before.requests;
    const dropped = after.workers.reduce((n, w) => n + w.logDropped, 0);
    const total = after.requests;
    await stopGroup(child, 10_000); // graceful: workers flush their records, logd writes them
    const lines = accessLog ? fs.readFileSync(accessLog, 'latin1').split('\n').length - 1 : null;
    if (lines !== null && lines + dropped !== total) {
      console.error(`warning: ${lines} lines + ${dropped} dropped != ${total} requests served`);
    }
    return {
      logging: accessLog ? 'on (combined, file)' : 'off',
      rps: wrk.rps,
      cpuPerRequest: (cpuAfter - cpuBefore) / served,
      served: total,
      dropped,
      lines,
      logdCpuPerRequest: logdPid ? (logdAfter - logdBefore) / served : null,
    };
  } finally {
    await stopGroup(child, 1000);
  }
}

async function main(): Promise<void> {
  requireWrk();
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-logd-'));
  try {
    console.log(`bench:logd — wrk -c ${CONNECTIONS} -d ${SECONDS}s keep-alive, herd serve --workers 2, hello world; ${os.cpus().length} CPUs, ${ROUNDS === 1 ? 'one round' : `${ROUNDS} rounds`}`);
    const rounds: Array<{ off: Row; on: Row }> = [];
    for (let round = 0; round < ROUNDS; round++) {
      const off = await measure(null, workDir);
      const on = await measure(path.join(workDir, `access-${round}.log`), workDir);
      rounds.push({ off, on });
    }
    console.log('');
    console.log('| round | access log | requests/s | server CPU µs/request | of which logd | requests served | dropped | lines in file |');
    console.log('|---:|---|---:|---:|---:|---:|---:|---:|');
    rounds.forEach(({ off, on }, k) => {
      for (const r of [off, on]) {
        const logd = r.logdCpuPerRequest === null ? '-' : r.logdCpuPerRequest.toFixed(2);
        console.log(`| ${k + 1} | ${r.logging} | ${Math.round(r.rps)} | ${r.cpuPerRequest.toFixed(1)} | ${logd} | ${r.served} | ${r.dropped} | ${r.lines ?? '-'} |`);
      }
    });
    const ratios = rounds.map(({ off, on }) => on.cpuPerRequest / off.cpuPerRequest);
    const ratio = median(ratios);
    const dropped = rounds.reduce((n, { on }) => n + on.dropped, 0);
    const linesMatch = rounds.every(({ on }) => on.lines === on.served - on.dropped);
    console.log('');
    if (ROUNDS > 1) console.log(`each round, on / off: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
    console.log(`CPU per request, logging on / off${ROUNDS > 1 ? ' (median of the rounds)' : ''}: ${ratio.toFixed(3)} (target <= 1.10): ${ratio <= 1.1 ? 'met' : 'NOT met'}`);
    console.log(`drops at full load: ${dropped} (target 0): ${dropped === 0 ? 'met' : 'NOT met'}`);
    console.log(`lines in file = requests served - dropped: ${linesMatch ? 'yes' : 'NO'}`);
  } finally {
    await stopAllGroups();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
