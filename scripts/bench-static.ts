// npm run bench:static — one run, one load generator (wrk, keep-alive): a 1 KiB and a 100 KiB file
// from herd (`herd serve --static DIR --workers 2 --engine fast`) and from nginx (2 workers,
// sendfile on) when it is installed. Prints requests/s and server CPU microseconds per request
// (utime+stime of the server's whole process tree from /proc over requests served), and herd's
// CPU per request against nginx's. Target (issue 7): within 1.3x of nginx.
//
// While `herd serve` does not serve --static yet, herd is a single fast-engine process running
// withStatic (this script started with --serve), and the output says so.
// Environment: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 50).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createFastEngine } from '../src/http/engine.ts';
import { withStatic } from '../src/http/static/index.ts';
import { findNginx } from '../src/lab/nginx_config.ts';
import { freePort } from '../src/lab/ports.ts';
import { treeCpuMicros } from '../src/lab/process_cpu.ts';
import { requireWrk, runWrk } from './support/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const HOST = '127.0.0.1';
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const FILES = [
  { name: '1k.bin', size: 1024 },
  { name: '100k.bin', size: 100 * 1024 },
];

interface RunningServer {
  label: string;
  pid: number;
  url: string;
  stop(): Promise<void>;
}

interface Row {
  server: string;
  file: string;
  rps: number;
  cpuPerRequest: number;
  errors: number;
}

/** `--serve ROOT PORT`: the fallback server, one fast-engine process. */
function serveInThisProcess(root: string, port: number): void {
  const engine = createFastEngine(withStatic({ root, prefix: null, autoindex: false, followSymlinks: false, cacheControl: null }, null), {
    requestTimeoutMs: 30_000,
    headersTimeoutMs: 10_000,
    keepAliveTimeoutMs: 5_000,
    maxConnections: 0,
    bodyLimit: 1024,
  });
  engine.server.listen(port, HOST, () => console.log(`listening on http://${HOST}:${port}`));
  process.on('SIGTERM', () => process.exit(0));
}

function waitForUrl(child: ChildProcess, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not print its URL within 15 s:\n${seen}`)), 15_000);
    const onData = (d: Buffer): void => {
      seen += d.toString();
      const m = /http:\/\/[^\s]+/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[0].replace(/\/$/, ''));
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', (d: Buffer) => (seen += d.toString()));
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with ${code}:\n${seen}`));
    });
  });
}

function stopper(child: ChildProcess): () => Promise<void> {
  return () =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      const kill = setTimeout(() => child.kill('SIGKILL'), 5000);
      child.once('exit', () => {
        clearTimeout(kill);
        resolve();
      });
      child.kill('SIGTERM');
    });
}

/** Does the server answer each file with exactly its bytes? */
async function servesFiles(url: string, dir: string): Promise<boolean> {
  for (const file of FILES) {
    try {
      const response = await fetch(`${url}/${file.name}`);
      const body = Buffer.from(await response.arrayBuffer());
      if (response.status !== 200 || !body.equals(fs.readFileSync(path.join(dir, file.name)))) return false;
    } catch {
      return false;
    }
  }
  return true;
}

async function startHerd(dir: string): Promise<RunningServer> {
  const port = await freePort(HOST);
  const cli = path.join(ROOT, 'src', 'cli', 'herd.ts');
  const args = [cli, 'serve', '--static', dir, '--workers', '2', '--engine', 'fast', '--host', HOST, '--port', String(port)];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = stopper(child);
  try {
    const url = await waitForUrl(child, 'herd serve');
    if (await servesFiles(url, dir)) return { label: 'herd serve --static (2 workers, fast engine)', pid: child.pid!, url, stop };
  } catch {
    // not wired (or failing): fall back below
  }
  await stop();
  const fallbackPort = await freePort(HOST);
  const single = spawn(process.execPath, [fileURLToPath(import.meta.url), '--serve', dir, String(fallbackPort)], { stdio: ['ignore', 'pipe', 'pipe'] });
  const stopSingle = stopper(single);
  try {
    const url = await waitForUrl(single, 'the fast-engine fallback');
    if (!(await servesFiles(url, dir))) throw new Error('the fast-engine fallback does not serve the files');
    return { label: 'herd withStatic, 1 fast-engine process (herd serve --static not wired yet)', pid: single.pid!, url, stop: stopSingle };
  } catch (error) {
    await stopSingle();
    throw error;
  }
}

function nginxConfig(work: string, dir: string, port: number): string {
  const p = (name: string): string => path.join(work, name);
  return `daemon off;
master_process on;
worker_processes 2;
pid ${p('nginx.pid')};
error_log ${p('error.log')} warn;
events { worker_connections 4096; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  open_file_cache max=1000 inactive=20s;
  open_file_cache_valid 1s;
  client_body_temp_path ${p('client_body')};
  proxy_temp_path ${p('proxy')};
  fastcgi_temp_path ${p('fastcgi')};
  uwsgi_temp_path ${p('uwsgi')};
  scgi_temp_path ${p('scgi')};
  default_type application/octet-stream;
  server {
    listen ${HOST}:${port};
    root ${dir};
  }
}
`;
}

async function startNginx(binary: string, work: string, dir: string): Promise<RunningServer> {
  const port = await freePort(HOST);
  fs.mkdirSync(work, { recursive: true });
  const conf = path.join(work, 'nginx.conf');
  fs.writeFileSync(conf, nginxConfig(work, dir, port));
  const child = spawn(binary, ['-p', work, '-c', conf, '-e', path.join(work, 'error.log')], { stdio: ['ignore', 'ignore', 'pipe'] });
  const stop = stopper(child);
  const url = `http://${HOST}:${port}`;
  try {
    for (let waited = 0; !(await accepts(port)); waited += 50) {
      if (waited > 10_000 || child.exitCode !== null) throw new Error(`nginx did not start: ${fs.readFileSync(path.join(work, 'error.log'), 'utf8')}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    if (!(await servesFiles(url, dir))) throw new Error('nginx does not serve the files');
  } catch (error) {
    await stop();
    throw error;
  }
  return { label: 'nginx (2 workers, sendfile on, open_file_cache)', pid: child.pid!, url, stop };
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, HOST);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function measure(server: RunningServer, file: string): Promise<Row> {
  const url = `${server.url}/${file}`;
  await runWrk(url, { seconds: 1, connections: CONNECTIONS }); // warm-up: JIT, caches, connections
  const before = treeCpuMicros(server.pid);
  const wrk = await runWrk(url, { seconds: SECONDS, connections: CONNECTIONS });
  const after = treeCpuMicros(server.pid);
  return { server: server.label, file, rps: wrk.rps, cpuPerRequest: (after - before) / wrk.requests, errors: wrk.errors };
}

async function main(): Promise<void> {
  requireWrk();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-static-'));
  fs.chmodSync(work, 0o755); // nginx's workers run as an unprivileged user when started as root
  const dir = path.join(work, 'files');
  fs.mkdirSync(dir);
  for (const file of FILES) fs.writeFileSync(path.join(dir, file.name), crypto.randomBytes(file.size));
  const rows: Row[] = [];
  try {
    console.log(`bench:static — wrk -t1 -c${CONNECTIONS} -d${SECONDS}s keep-alive; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Linux ${os.release()}, Node ${process.version}`);
    const nginx = findNginx();
    const starters: (() => Promise<RunningServer>)[] = [() => startHerd(dir)];
    if (nginx === null) console.log('nginx is not installed (apt-get install nginx): herd only, no ratio');
    else starters.push(() => startNginx(nginx, path.join(work, 'nginx'), dir));
    for (const start of starters) {
      const server = await start();
      try {
        for (const file of FILES) rows.push(await measure(server, file.name));
      } finally {
        await server.stop();
      }
    }
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }
  console.log('\n| server | file | requests/s | CPU µs/request | errors |');
  console.log('|---|---|---:|---:|---:|');
  for (const r of rows) console.log(`| ${r.server} | ${r.file} | ${r.rps.toFixed(0)} | ${r.cpuPerRequest.toFixed(1)} | ${r.errors} |`);
  const nginxRows = rows.filter((r) => r.server.startsWith('nginx'));
  if (nginxRows.length === 0) return;
  console.log('');
  for (const file of FILES) {
    const herd = rows.find((r) => !r.server.startsWith('nginx') && r.file === file.name)!;
    const peer = nginxRows.find((r) => r.file === file.name)!;
    const ratio = herd.cpuPerRequest / peer.cpuPerRequest;
    console.log(`${file.name}: herd CPU per request ${ratio.toFixed(2)}x nginx's (target ≤ 1.3x: ${ratio <= 1.3 ? 'met' : 'not met'}); requests/s ${(herd.rps / peer.rps).toFixed(2)}x`);
  }
}

if (process.argv[2] === '--serve') serveInThisProcess(process.argv[3], Number(process.argv[4]));
else await main();
