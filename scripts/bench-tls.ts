// npm run bench:tls — HTTPS 'Hello, World!' on herd's fast and node engines against nginx `ssl`,
// on the same certificates (ECDSA P-256, then RSA 2048), one worker each, in one run with
// interleaved rounds. Per server: CPU µs per request of its whole process tree (utime+stime from
// /proc) with keep-alive, and with a new connection per request, and requests/s beside it. Load
// from wrk (Debian's, OpenSSL). wrk resumes a session from a ticket whenever a server issues one
// (it keeps the session across its reconnects), so no server here issues any (herd
// --no-tls-tickets, nginx ssl_session_tickets off): every new connection is a full handshake.
// Two floors, a canned answer and no parser at all: TLS on bare handles (the fast engine's way,
// src/uv/tls_handle.ts), whose cost over nginx is Node's TLS layer and under the fast engine is
// herd's; and a TLSSocket's stream path, the road not taken.
// Environment: BENCH_SECONDS (default 5), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 3).
import { execFileSync, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { treeCpuMicros } from '../src/lab/process_cpu.ts';
import { freePort } from '../src/lab/ports.ts';
import { spawnGroup, stopGroup } from '../src/lab/process_group.ts';
import { median } from './support/median.ts';
import { requireWrk, runWrk } from './support/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 3));
const HOST = '127.0.0.1';
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HERD = path.join(ROOT, 'src/cli/herd.ts');

type Kind = 'ECDSA P-256' | 'RSA 2048';
interface Certificate {
  kind: Kind;
  cert: string;
  key: string;
}
interface Server {
  id: string;
  start(port: number, certificate: Certificate, dir: string): ChildProcess;
}

const herd = (engine: 'fast' | 'node'): Server => ({
  id: `herd ${engine} engine`,
  start: (port, c, dir) => spawnGroup(process.execPath, [HERD, 'serve', '--engine', engine, '--workers', '1', '--host', HOST, '--port', String(port), '--tls-cert', c.cert, '--tls-key', c.key, '--no-tls-tickets', '--control', path.join(dir, `herd-${port}.sock`)]),
});

/** The floor under the fast engine (scripts/support/tls_handle_hello.ts): TLS handles, no parser. */
const handleFloor: Server = {
  id: 'node TLS handles, no parser',
  start: (port, c) => spawnGroup(process.execPath, [path.join(ROOT, 'scripts/support/tls_handle_hello.ts'), String(port), c.cert, c.key]),
};

/** The stream-path yardstick (scripts/support/tls_stream_hello.ts): TLSSocket 'data' events, no parser. */
const streamPath: Server = {
  id: 'node tls stream path, no parser',
  start: (port, c) => spawnGroup(process.execPath, [path.join(ROOT, 'scripts/support/tls_stream_hello.ts'), String(port), c.cert, c.key]),
};

function nginxPath(): string | null {
  const found = spawnSync('sh', ['-c', 'command -v nginx || ls /usr/sbin/nginx'], { encoding: 'utf8' });
  return found.status === 0 ? found.stdout.trim().split('\n')[0] : null;
}

const nginx = (binary: string): Server => ({
  id: 'nginx ssl',
  start: (port, c, dir) => {
    const prefix = fs.mkdtempSync(path.join(dir, 'nginx-'));
    fs.mkdirSync(path.join(prefix, 'logs'));
    // One worker, no access log (herd logs nothing by default either), no session cache or tickets:
    // wrk resumes a session from a ticket when a server issues one (seen here: nginx's RSA
    // "handshakes" at 570 µs with tickets on, 2000 µs off), so nginx must not, for every new
    // connection to be a full handshake.
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), `daemon off;
master_process on;
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path ${prefix}/body; proxy_temp_path ${prefix}/proxy; fastcgi_temp_path ${prefix}/fastcgi; uwsgi_temp_path ${prefix}/uwsgi; scgi_temp_path ${prefix}/scgi;
  server {
    listen ${HOST}:${port} ssl;
    ssl_certificate ${c.cert};
    ssl_certificate_key ${c.key};
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_cache off;
    ssl_session_tickets off;
    location / { default_type text/plain; return 200 'Hello, World!'; }
  }
}
`);
    return spawnGroup(binary, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')]);
  },
});

function makeCertificate(dir: string, kind: Kind): Certificate {
  const name = kind === 'RSA 2048' ? 'rsa' : 'ecdsa';
  const cert = path.join(dir, `${name}.crt`);
  const key = path.join(dir, `${name}.key`);
  const keyArgs = kind === 'RSA 2048' ? ['-newkey', 'rsa:2048'] : ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256'];
  execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=bench', '-addext', 'subjectAltName=IP:127.0.0.1'], { stdio: 'ignore' });
  return { kind, cert, key };
}

async function answers(url: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    const ok = await new Promise<boolean>((resolve) => {
      https.get(url, { rejectUnauthorized: false, agent: false }, (res) => {
        res.resume();
        resolve(res.statusCode === 200);
      }).on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} did not answer within ${timeoutMs} ms`);
}

interface Row {
  server: string;
  kind: Kind;
  keepAliveCpu: number;
  keepAliveRps: number;
  closeCpu: number;
  closeRps: number;
  errors: number;
}

async function measure(server: Server, certificate: Certificate, dir: string): Promise<Row> {
  const port = await freePort(HOST);
  const url = `https://${HOST}:${port}/`;
  const child = server.start(port, certificate, dir);
  let output = '';
  child.stdout?.on('data', (d) => (output += d));
  child.stderr?.on('data', (d) => (output += d));
  try {
    await answers(url, 30_000).catch((err: Error) => {
      throw new Error(`${server.id}: ${err.message}\n${output}`);
    });
    const run = async (close: boolean) => {
      await runWrk(url, { seconds: 1, connections: CONNECTIONS, close }); // JIT, session state
      const before = treeCpuMicros(child.pid!);
      const wrk = await runWrk(url, { seconds: SECONDS, connections: CONNECTIONS, close });
      return { cpu: (treeCpuMicros(child.pid!) - before) / wrk.requests, rps: wrk.rps, errors: wrk.errors };
    };
    const keepAlive = await run(false);
    const close = await run(true);
    return { server: server.id, kind: certificate.kind, keepAliveCpu: keepAlive.cpu, keepAliveRps: keepAlive.rps, closeCpu: close.cpu, closeRps: close.rps, errors: keepAlive.errors + close.errors };
  } finally {
    await stopGroup(child, 5000);
  }
}

requireWrk();
const nginxBinary = nginxPath();
const servers: Server[] = [herd('fast'), herd('node'), handleFloor, streamPath, ...(nginxBinary ? [nginx(nginxBinary)] : [])];
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-tls-'));
try {
  const certificates = (['ECDSA P-256', 'RSA 2048'] as const).map((kind) => makeCertificate(dir, kind));
  console.log(
    `bench:tls — HTTPS 'Hello, World!', 1 worker each; wrk -t1 -c${CONNECTIONS} -d${SECONDS}s (keep-alive; and Connection: close, a full handshake per request); ` +
      `median of ${ROUNDS} interleaved round${ROUNDS === 1 ? '' : 's'}; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Linux ${os.release()}, Node ${process.version}; ` +
      `${execFileSync('openssl', ['version'], { encoding: 'utf8' }).trim()}`,
  );
  if (!nginxBinary) console.log('nginx is not installed (apt-get install nginx): its rows are skipped, and no ratio can be given');
  const rounds: Row[][] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const rows: Row[] = [];
    // Alternate the order each round, so no server always runs right after the same one.
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    for (const certificate of certificates) {
      for (const server of order) {
        const row = await measure(server, certificate, dir);
        console.log(`  round ${r + 1}: ${row.server}, ${row.kind}: keep-alive ${row.keepAliveCpu.toFixed(1)} µs/req, full handshake ${row.closeCpu.toFixed(1)} µs/req, errors ${row.errors}`);
        rows.push(row);
      }
    }
    rounds.push(rows);
  }
  const rows: Row[] = [];
  for (const certificate of certificates) {
    for (const server of servers) {
      const runs = rounds.map((round) => round.find((row) => row.server === server.id && row.kind === certificate.kind)!);
      const m = (f: (row: Row) => number) => median(runs.map(f));
      rows.push({ server: server.id, kind: certificate.kind, keepAliveCpu: m((x) => x.keepAliveCpu), keepAliveRps: m((x) => x.keepAliveRps), closeCpu: m((x) => x.closeCpu), closeRps: m((x) => x.closeRps), errors: runs.reduce((s, x) => s + x.errors, 0) });
    }
  }
  const peer = (kind: Kind) => rows.find((row) => row.kind === kind && row.server === 'nginx ssl');
  const ratio = (value: number, of: number | undefined) => (of === undefined ? '—' : `${(value / of).toFixed(2)}x`);
  console.log('\n| server | certificate | keep-alive CPU µs/req | vs nginx | keep-alive req/s | full-handshake CPU µs/req | vs nginx | full-handshake req/s | errors |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const row of rows) {
    const n = peer(row.kind);
    console.log(
      `| ${row.server} | ${row.kind} | ${row.keepAliveCpu.toFixed(1)} | ${ratio(row.keepAliveCpu, n?.keepAliveCpu)} | ${row.keepAliveRps.toFixed(0)} | ` +
        `${row.closeCpu.toFixed(1)} | ${ratio(row.closeCpu, n?.closeCpu)} | ${row.closeRps.toFixed(0)} | ${row.errors} |`,
    );
  }
  if (nginxBinary) {
    const fast = (kind: Kind) => rows.find((row) => row.kind === kind && row.server === 'herd fast engine')!;
    const line = (['ECDSA P-256', 'RSA 2048'] as const).map((kind) => `${kind}: keep-alive ${ratio(fast(kind).keepAliveCpu, peer(kind)!.keepAliveCpu)}, full handshakes ${ratio(fast(kind).closeCpu, peer(kind)!.closeCpu)}`).join('; ');
    console.log(`\ntargets: herd fast engine keep-alive ≤ 1.3x nginx, full handshakes ≤ 1.2x nginx → ${line}`);
    // Whose the gap is: the fast engine over its floor is herd's; the floor over nginx is Node's.
    const floor = (kind: Kind) => rows.find((row) => row.kind === kind && row.server === handleFloor.id)!;
    for (const kind of ['ECDSA P-256', 'RSA 2048'] as const) {
      const split = (pick: (row: Row) => number) => `herd's ${(pick(fast(kind)) - pick(floor(kind))).toFixed(1)}, Node's TLS layer ${(pick(floor(kind)) - pick(peer(kind)!)).toFixed(1)}`;
      console.log(`gap to nginx in µs/req, ${kind}: keep-alive ${split((r) => r.keepAliveCpu)}; full handshake ${split((r) => r.closeCpu)}`);
    }
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
