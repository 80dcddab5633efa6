// npm run bench:memory — what herd costs in memory, beside the tools it replaces, in one run.
//
// Each server runs alone on a free port, with 2 workers where it has workers: herd (compiled, as
// installed) with its built-in app and with an Express app, the same Express app as one plain
// node:http process, under node's cluster, and under PM2's cluster mode. For each: the time from
// the command to its first answered request, then every process's RSS and PSS idle and after
// BENCH_SECONDS (default 10) of keep-alive load from herd bench. Logging is compared like for like:
// herd's access log beside PM2 writing the app's morgan access lines to its files, and herd without
// an access log beside PM2 with an app that logs nothing and logs sent to /dev/null. PSS (/proc/PID/smaps_rollup) shares
// each page among the processes that map it, so a tree's PSS total is what the tree really costs;
// an RSS total counts the node binary and shared libraries once per process.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { processTree } from '../src/lab/process_cpu.ts';
import { freePort } from '../src/lab/ports.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HERD_DIST = path.join(ROOT, 'dist/cli/herd.js');
const HERD_SRC = path.join(ROOT, 'src/cli/herd.ts');
const PM2 = path.join(ROOT, 'node_modules/pm2/bin/pm2');
const APPS = path.join(ROOT, 'scripts/memory');
const HOST = '127.0.0.1';
const LOAD_SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const IDLE_SETTLE_MS = 2000;

interface Sample {
  role: string;
  pid: number;
  rssMB: number;
  pssMB: number;
}

interface Running {
  url: string;
  /** Root of the process tree to measure (herd's supervisor, the cluster primary, PM2's daemon). */
  pid: () => number;
  role: (pid: number, cmdline: string) => string;
  stop: () => Promise<void>;
}

interface Server {
  name: string;
  start: (port: number, work: string) => Promise<{ running: Running; child: ChildProcess | null }>;
}

function memoryOf(pid: number): { rssMB: number; pssMB: number } | null {
  try {
    const text = fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8');
    const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
    return { rssMB: kb('Rss') / 1024, pssMB: kb('Pss') / 1024 };
  } catch {
    return null;
  }
}

function cmdline(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ');
  } catch {
    return '';
  }
}

function sample(running: Running): Sample[] {
  const out: Sample[] = [];
  for (const pid of processTree(running.pid())) {
    const m = memoryOf(pid);
    if (m) out.push({ role: running.role(pid, cmdline(pid)), pid, ...m });
  }
  return out.sort((a, b) => a.role.localeCompare(b.role));
}

function answers(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname);
    let data = '';
    socket.setTimeout(1000, () => socket.destroy());
    socket.on('connect', () => socket.write(`GET / HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d) => (data += d));
    socket.on('error', () => resolve(false));
    socket.on('close', () => resolve(data.startsWith('HTTP/1.1 200')));
  });
}

async function firstAnswer(url: string, since: number): Promise<number> {
  for (;;) {
    if (await answers(url)) return performance.now() - since;
    if (performance.now() - since > 30_000) throw new Error(`${url} did not answer within 30 s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function spawnServer(file: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(file, args, { detached: true, stdio: ['ignore', 'ignore', 'ignore'], env: { ...process.env, ...env } });
}

async function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((resolve) => child.once('exit', resolve));
  process.kill(-child.pid!, 'SIGTERM');
  const late = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
  await gone;
  clearTimeout(late);
}

function herd(name: string, args: string[]): Server {
  return {
    name,
    async start(port, work) {
      const full = args.map((a) => a.replace('WORK', work));
      const child = spawnServer(process.execPath, [HERD_DIST, 'serve', ...full, '--port', String(port), '--host', HOST, '--workers', '2', '--control', path.join(work, 'c.sock')]);
      const role = (pid: number, cmd: string) => (pid === child.pid ? 'supervisor' : cmd.includes('logd/main') ? 'logd' : `worker ${pid}`);
      return { child, running: { url: `http://${HOST}:${port}/`, pid: () => child.pid!, role, stop: () => stopGroup(child) } };
    },
  };
}

function nodeProcess(name: string, script: string): Server {
  return {
    name,
    async start(port) {
      const child = spawnServer(process.execPath, [path.join(APPS, script)], { PORT: String(port), HOST, WORKERS: '2' });
      const role = (pid: number) => (pid === child.pid ? (script.includes('cluster') ? 'primary' : 'process') : `worker ${pid}`);
      return { child, running: { url: `http://${HOST}:${port}/`, pid: () => child.pid!, role, stop: () => stopGroup(child) } };
    },
  };
}

function pm2(name: string, logs: 'files' | 'null'): Server {
  return {
    name,
    async start(port, work) {
      const env = { ...process.env, PM2_HOME: path.join(work, 'pm2'), PORT: String(port), HOST, ACCESS_LOG: logs === 'files' ? '1' : '0' };
      const logArgs = logs === 'null' ? ['--output', '/dev/null', '--error', '/dev/null'] : ['--output', path.join(work, 'out.log'), '--error', path.join(work, 'err.log')];
      const cli = (...args: string[]) => execFileSync(process.execPath, [PM2, ...args], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      cli('start', path.join(APPS, 'express_listen.js'), '-i', '2', '--name', 'memory', ...logArgs);
      const daemon = () => Number(fs.readFileSync(path.join(env.PM2_HOME, 'pm2.pid'), 'utf8'));
      const role = (pid: number) => (pid === daemon() ? 'pm2 daemon' : `worker ${pid}`);
      return { child: null, running: { url: `http://${HOST}:${port}/`, pid: daemon, role, stop: async () => void cli('kill') } };
    },
  };
}

const SERVERS: Server[] = [
  herd('herd, built-in app (fast engine)', []),
  herd('herd, Express, access log off', [path.join(APPS, 'express_app.js'), '--access-log', 'off']),
  herd('herd, Express, access log on', [path.join(APPS, 'express_app.js'), '--access-log', 'WORK/access.log']),
  nodeProcess('node:http, Express, one process', 'express_listen.js'),
  nodeProcess("node's cluster, Express", 'express_cluster.js'),
  pm2('PM2 cluster mode, Express, logs to /dev/null', 'null'),
  pm2('PM2 cluster mode, Express with morgan, logs to files', 'files'),
];

function load(url: string): number {
  const out = execFileSync(process.execPath, [HERD_SRC, 'bench', '-k', '-c', '32', '-t', String(LOAD_SECONDS), '--json', url], { encoding: 'utf8' });
  return (JSON.parse(out) as { requests: { succeeded: number } }).requests.succeeded;
}

interface Row {
  server: string;
  startMs: number;
  requests: number;
  idle: Sample[];
  loaded: Sample[];
}

async function measure(server: Server): Promise<Row> {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-memory-'));
  const port = await freePort(HOST);
  const since = performance.now();
  const { running } = await server.start(port, work);
  try {
    const startMs = await firstAnswer(running.url, since);
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    const idle = sample(running);
    const requests = load(running.url);
    const loaded = sample(running);
    return { server: server.name, startMs, requests, idle, loaded };
  } finally {
    await running.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

const mb = (n: number) => n.toFixed(1);
const total = (samples: Sample[], key: 'rssMB' | 'pssMB') => samples.reduce((sum, s) => sum + s[key], 0);
/** Worker rows are named by pid; in the table they are "worker 1", "worker 2". */
function roleNames(samples: Sample[]): string[] {
  let n = 0;
  return samples.map((s) => (s.role.startsWith('worker') ? `worker ${++n}` : s.role));
}

function printRow(row: Row): void {
  console.log(`\n### ${row.server}: first answer ${row.startMs.toFixed(0)} ms after the command; ${row.requests} requests in ${LOAD_SECONDS} s of load`);
  console.log('| process | RSS idle | PSS idle | RSS loaded | PSS loaded |');
  console.log('|---|---:|---:|---:|---:|');
  const names = roleNames(row.idle);
  row.idle.forEach((s, i) => {
    const after = row.loaded.find((l) => l.pid === s.pid);
    console.log(`| ${names[i]} | ${mb(s.rssMB)} | ${mb(s.pssMB)} | ${after ? mb(after.rssMB) : '-'} | ${after ? mb(after.pssMB) : '-'} |`);
  });
  console.log(`| **tree** | ${mb(total(row.idle, 'rssMB'))} | **${mb(total(row.idle, 'pssMB'))}** | ${mb(total(row.loaded, 'rssMB'))} | **${mb(total(row.loaded, 'pssMB'))}** |`);
}

function verdicts(rows: Row[]): void {
  const by = (name: string) => rows.find((r) => r.server === name)!;
  const worstWorker = (row: Row, when: 'idle' | 'loaded') => Math.max(...row[when].filter((s) => s.role.startsWith('worker')).map((s) => s.rssMB));
  const herdExpress = by('herd, Express, access log off');
  const herdLogged = by('herd, Express, access log on');
  const plain = by('node:http, Express, one process');
  console.log('\n## Targets (MB; RSS for single processes, PSS for trees)');
  for (const when of ['idle', 'loaded'] as const) {
    const worker = worstWorker(herdExpress, when);
    const base = plain[when][0].rssMB;
    console.log(`- ${when}: herd's Express worker ${mb(worker)} vs plain node:http ${mb(base)}: +${mb(worker - base)} (target +10)`);
    const supervisor = herdLogged[when].find((s) => s.role === 'supervisor')!.rssMB;
    const logd = herdLogged[when].find((s) => s.role === 'logd')?.rssMB ?? NaN;
    console.log(`- ${when}: supervisor ${mb(supervisor)} (target 55), logd ${mb(logd)} (target 50)`);
    const pairs: [Row, Row][] = [
      [herdLogged, by('PM2 cluster mode, Express with morgan, logs to files')],
      [herdExpress, by('PM2 cluster mode, Express, logs to /dev/null')],
    ];
    for (const [h, p] of pairs) {
      const ratio = total(h[when], 'pssMB') / total(p[when], 'pssMB');
      console.log(`- ${when}: ${h.server} ${mb(total(h[when], 'pssMB'))} vs ${p.server} ${mb(total(p[when], 'pssMB'))}: ${ratio.toFixed(2)}x (target <= 1.00x)`);
    }
  }
}

execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.ts')], { stdio: 'inherit' });
console.log(`# bench:memory — Node ${process.version}, ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? 'unknown CPU'}; MB = MiB`);
const rows: Row[] = [];
for (const server of SERVERS) {
  const row = await measure(server);
  rows.push(row);
  printRow(row);
}
verdicts(rows);
