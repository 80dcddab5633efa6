// Two herds side by side, loaded by wrk in turn in short slices (A, B, B, A, …): this machine drifts by
// 10–30 % over tens of seconds, more than the differences measured, so neighbouring slices are compared.
// Each pair of neighbouring slices is a round; a bench prints the rounds' ratios, their median, and the
// ratio of the totals. A server waits unloaded (near zero CPU) while the other is measured.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { treeCpuMicros } from '../../src/lab/process_cpu.ts';
import { freePort } from '../../src/lab/ports.ts';
import { spawnGroup } from '../../src/lab/process_group.ts';
import { sendControl } from '../../src/supervisor/control_client.ts';
import type { Status } from '../../src/supervisor/control_protocol.ts';
import { median } from './median.ts';
import { runWrk } from './wrk.ts';

const HOST = '127.0.0.1';
const HERD = fileURLToPath(new URL('../../src/cli/herd.ts', import.meta.url));

export interface SideServer {
  label: string;
  child: ChildProcess;
  url: string;
  control: string;
}

export interface Slice {
  requests: number;
  cpuMicros: number;
  logdCpuMicros: number;
  rps: number;
}

export interface SliceOptions {
  seconds: number;
  connections: number;
  /** Wait after wrk stops before CPU is read (logd's last batch, say). */
  settleMs: number;
}

export async function status(control: string): Promise<Status> {
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
      const m = /serving .* on (http:\/\/[^\s]+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]!.replace(/\/?$/, '/'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`herd serve exited (${code}):\n${output}`)));
  });
}

/** `herd serve` with 2 workers and `args`, its control socket in workDir. */
export async function startSideServer(label: string, args: string[], workDir: string): Promise<SideServer> {
  const port = await freePort(HOST);
  const control = path.join(workDir, `control-${label.replace(/\W+/g, '-')}.sock`);
  const child = spawnGroup(process.execPath, [HERD, 'serve', '--host', HOST, '--port', String(port), '--workers', '2', '--control', control, '--grace', '2', ...args]);
  return { label, child, url: await waitForUrl(child), control };
}

export async function measureSlice(server: SideServer, o: SliceOptions): Promise<Slice> {
  const before = await status(server.control);
  const logdPid = before.logd?.pid ?? null;
  const logdBefore = logdPid ? treeCpuMicros(logdPid) : 0;
  const cpuBefore = treeCpuMicros(server.child.pid!);
  const wrk = await runWrk(server.url, { seconds: o.seconds, connections: o.connections });
  await sleep(o.settleMs);
  const cpuAfter = treeCpuMicros(server.child.pid!);
  const logdAfter = logdPid ? treeCpuMicros(logdPid) : 0;
  const after = await status(server.control);
  return { requests: after.requests - before.requests, cpuMicros: cpuAfter - cpuBefore, logdCpuMicros: logdAfter - logdBefore, rps: wrk.rps };
}

/** `rounds` rounds of one slice per server, alternating which goes first. */
export async function alternateSlices(a: SideServer, b: SideServer, rounds: number, o: SliceOptions): Promise<Array<{ a: Slice; b: Slice }>> {
  for (const server of [a, b]) await runWrk(server.url, { seconds: 1, connections: o.connections }); // warm-up: JIT, connections
  const out: Array<{ a: Slice; b: Slice }> = [];
  for (let round = 0; round < rounds; round++) {
    if (round % 2 === 0) {
      const first = await measureSlice(a, o);
      out.push({ a: first, b: await measureSlice(b, o) });
    } else {
      const first = await measureSlice(b, o);
      out.push({ a: await measureSlice(a, o), b: first });
    }
  }
  return out;
}

export function perRequest(s: Slice): number {
  return s.cpuMicros / s.requests;
}

export function total(slices: Slice[]): Slice {
  const sum = (f: (s: Slice) => number): number => slices.reduce((n, s) => n + f(s), 0);
  return { requests: sum((s) => s.requests), cpuMicros: sum((s) => s.cpuMicros), logdCpuMicros: sum((s) => s.logdCpuMicros), rps: median(slices.map((s) => s.rps)) };
}

/** The table of rounds and totals, the per-round ratios B/A, their median and the totals' ratio; returns the median. */
export function printRounds(rounds: Array<{ a: Slice; b: Slice }>, a: SideServer, b: SideServer, showLogd: boolean): number {
  console.log('');
  console.log(`| round | server | requests/s | server CPU µs/request |${showLogd ? ' of which logd |' : ''} requests |`);
  console.log(`|---:|---|---:|---:|${showLogd ? '---:|' : ''}---:|`);
  const row = (server: SideServer, k: string, s: Slice): void =>
    console.log(`| ${k} | ${server.label} | ${Math.round(s.rps)} | ${perRequest(s).toFixed(2)} |${showLogd ? ` ${s.logdCpuMicros > 0 ? (s.logdCpuMicros / s.requests).toFixed(2) : '-'} |` : ''} ${s.requests} |`);
  rounds.forEach((r, k) => {
    row(a, String(k + 1), r.a);
    row(b, String(k + 1), r.b);
  });
  const aTotal = total(rounds.map((r) => r.a));
  const bTotal = total(rounds.map((r) => r.b));
  row(a, 'all', aTotal);
  row(b, 'all', bTotal);
  const ratios = rounds.map((r) => perRequest(r.b) / perRequest(r.a));
  console.log('');
  console.log(`each round, ${b.label} / ${a.label}: ${ratios.map((r) => r.toFixed(3)).join(' ')}`);
  console.log(`all rounds together: ${(perRequest(bTotal) / perRequest(aTotal)).toFixed(3)}`);
  return median(ratios);
}
