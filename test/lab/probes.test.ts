// Each /proc probe of herd lab, on fixture copies of /proc files taken from a real machine
// (test/fixtures/proc), and the live readers on this process where the kernel can be asked directly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { listenQueueLengths, parseTcpTable, readListenRows } from '../../src/lab/accept_queue.ts';
import { parseContextSwitches, processContextSwitches } from '../../src/lab/context_switches.ts';
import { listenCountersDelta, listenCountersFrom, parseNetstat } from '../../src/lab/listen_counters.ts';
import { machineInfo } from '../../src/lab/machine.ts';
import { childPids, parseProcStat } from '../../src/lab/process_cpu.ts';
import { acceptTraceFrom, parseStraceSummary } from '../../src/lab/syscall_trace.ts';
import { countersDelta, shareOf } from '../../src/lab/worker_share.ts';

const fixture = (name: string) => new URL(`../fixtures/proc/${name}`, import.meta.url);
const read = (name: string) => fs.readFileSync(fixture(name), 'utf8');

/** ports.txt records what the fixtures were taken with: "tcp PORT rx N backlog B". */
function recorded(family: 'tcp' | 'tcp6'): { port: number; rx: number } {
  const line = read('ports.txt').split('\n').find((l) => l.startsWith(`${family} `))!;
  const f = line.split(' ');
  return { port: Number(f[1]), rx: Number(f[3]) };
}

test('TcpExt ListenOverflows/ListenDrops: parsed, and their delta across a run that overflowed a backlog of 1', () => {
  const before = listenCountersFrom(read('net_netstat_before'));
  const after = listenCountersFrom(read('net_netstat_after'));
  assert.deepEqual(listenCountersDelta(before, after), { listenOverflows: 8, listenDrops: 8 });
  const tables = parseNetstat(read('net_netstat_after'));
  assert.ok(tables.has('IpExt'), 'every section is parsed, not only TcpExt');
  assert.equal(tables.get('TcpExt')!.get('ListenOverflows'), 8);
  assert.throws(() => listenCountersFrom('Ip: a b\nIp: 1 2\n'), /TcpExt/);
});

test('accept queue: rx_queue of the LISTEN socket on the port, IPv4 and IPv6', () => {
  for (const family of ['tcp', 'tcp6'] as const) {
    const { port, rx } = recorded(family);
    const rows = parseTcpTable(read(`net_${family}`));
    assert.deepEqual(listenQueueLengths(rows, port), [rx], family);
    // The clients' own sockets on that port are ESTABLISHED, not counted.
    assert.ok(rows.some((r) => r.localPort !== port && r.state === 0x01), `${family}: established rows parsed too`);
  }
});

test('readListenRows stops at the first non-LISTEN row and keeps every listener before it', () => {
  const rows = readListenRows(fixture('net_tcp').pathname);
  assert.ok(rows.length >= 2);
  assert.ok(rows.every((r) => r.state === 0x0a));
  assert.deepEqual(listenQueueLengths(rows, recorded('tcp').port), [recorded('tcp').rx]);
  assert.deepEqual(readListenRows('/nonexistent/tcp6'), []);
});

test('accept queue, live: connections that wait for accept() show in rx_queue', async (t) => {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  // Another process connects while this one's event loop is blocked, so nothing is accepted.
  const client = spawn(process.execPath, ['-e', `const net=require('net');for(let i=0;i<3;i++)net.connect(${port},'127.0.0.1');setTimeout(()=>{},30000)`], { stdio: 'ignore' });
  t.after(() => {
    client.kill('SIGKILL');
    server.close();
  });
  await new Promise((resolve) => client.once('spawn', resolve));
  const pause = new Int32Array(new SharedArrayBuffer(4));
  let depth = 0;
  for (let i = 0; i < 250 && depth < 3; i++) {
    depth = listenQueueLengths(readListenRows('/proc/net/tcp'), port).reduce((a, b) => a + b, 0);
    Atomics.wait(pause, 0, 0, 20); // blocks this thread: the loop cannot accept
  }
  assert.equal(depth, 3);
});

test('context switches: parsed from a status file, and counted for every thread of a live process', () => {
  const text = read('pid_status');
  const parsed = parseContextSwitches(text);
  assert.equal(parsed.voluntary, Number(/voluntary_ctxt_switches:\s*(\d+)/.exec(text)![1]));
  assert.equal(parsed.involuntary, Number(/nonvoluntary_ctxt_switches:\s*(\d+)/.exec(text)![1]));
  assert.throws(() => parseContextSwitches('Name: x\n'), /context-switch/);
  const mine = processContextSwitches(process.pid);
  // Node runs several threads; the sum over them is at least the main thread's own count.
  const main = parseContextSwitches(fs.readFileSync('/proc/self/status', 'utf8'));
  assert.ok(mine.voluntary >= main.voluntary && mine.voluntary > 0);
  assert.deepEqual(processContextSwitches(2 ** 22 + 1), { voluntary: 0, involuntary: 0 });
});

test('process stat: pid, ppid and CPU ticks from a real /proc/<pid>/stat', () => {
  const text = read('pid_stat');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  const stat = parseProcStat(text);
  assert.equal(stat.pid, Number(text.split(' ')[0]));
  assert.equal(stat.ppid, Number(f[1]));
  assert.equal(stat.utime, Number(f[11]));
  assert.equal(stat.cstime, Number(f[14]));
  assert.equal(parseProcStat('42 (a) b) c) S 7 0 0 0 0 0 0 0 0 0 5 6 7 8').ppid, 7);
});

test('childPids lists the children of a process', async (t) => {
  const child = spawn(process.execPath, ['-e', 'setTimeout(()=>{},30000)'], { stdio: 'ignore' });
  t.after(() => child.kill('SIGKILL'));
  await new Promise((resolve) => child.once('spawn', resolve));
  assert.ok(childPids(process.pid).includes(child.pid!));
});

test('strace -c summary: calls and errors per syscall, blank errors column read as 0', () => {
  const counts = parseStraceSummary(read('strace_summary_single'));
  const text = read('strace_summary_single');
  const acceptLine = text.split('\n').find((l) => l.trim().endsWith(' accept4'))!.trim().split(/\s+/);
  assert.deepEqual(counts.get('accept4'), { calls: Number(acceptLine[3]), errors: 0 });
  assert.ok(!counts.has('total'));
  // Two workers sharing one listening socket (node cluster SCHED_NONE): some accepts find nothing.
  const shared = acceptTraceFrom(parseStraceSummary(read('strace_summary_cluster_none')));
  const sharedText = read('strace_summary_cluster_none');
  const accept4 = sharedText.split('\n').find((l) => l.trim().endsWith(' accept4'))!.trim().split(/\s+/);
  const epoll = sharedText.split('\n').find((l) => l.trim().endsWith(' epoll_pwait'))!.trim().split(/\s+/);
  assert.deepEqual(shared, { acceptCalls: Number(accept4[3]), acceptErrors: Number(accept4[4]), epollWaits: Number(epoll[3]) });
  assert.ok(shared.acceptErrors > 0);
});

test('worker share: busiest worker fraction and max/min, deltas only for workers present twice', () => {
  assert.deepEqual(shareOf([30, 10], 'requests'), { source: 'requests', perWorker: [30, 10], maxShare: 0.75, maxOverMin: 3 });
  assert.equal(shareOf([5, 0], 'cpu')!.maxOverMin, null);
  assert.equal(shareOf([5], 'cpu'), null);
  assert.equal(shareOf([0, 0], 'cpu'), null);
  const before = new Map([[1, 100], [2, 50]]);
  const after = new Map([[1, 160], [2, 70], [3, 5]]);
  assert.deepEqual(countersDelta(before, after), [60, 20]);
});

test('machine info names cores, kernel and Node version', () => {
  const m = machineInfo();
  assert.ok(m.cores >= 1);
  assert.equal(m.node, process.version);
  assert.match(m.kernel, /\d/);
});
