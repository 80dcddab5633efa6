// npm run bench:loadgen -- [--clients N] [--seconds S] [--threads T] [--rounds R] [--modes keep-alive,close,http2]
// One server (nginx when on PATH, else herd's fast engine via `herd serve`): herd bench, wrk, ab
// and autocannon with the same clients, threads and seconds, keep-alive and a new connection per
// request. For each: requests/s and the generator's own CPU microseconds per request (utime+stime
// of its whole process tree, and the user-space part of it), with ratios against wrk (keep-alive) and ab (connection per request),
// the targets of issues 5 and 19. R rounds (default 5), each running every generator once in
// turn, so the machine's drift touches all alike: figures are medians of the rounds, and the
// ratios the median of each round's own ratio, with min–max and a bootstrap 95 % interval
// (herd bench --vs's statistics). With h2load on PATH (Debian's nghttp2-client), herd bench --http2
// and h2load load a node:http2 server too. Install hints are printed for missing tools.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockTicksPerSecond, parseProcStat } from '../src/proc/process_stat.ts';
import { compareFigure, median } from '../src/bench/slice_stats.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HERD = path.join(ROOT, 'src/cli/herd.ts');
const AUTOCANNON = path.join(ROOT, 'node_modules/.bin/autocannon');
const INSTALL_HINT = 'install with: sudo apt-get install wrk apache2-utils nginx nghttp2-client (autocannon comes with npm install)';
const H2_SERVER = path.join(ROOT, 'scripts/support/h2_server.ts');

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
const CLIENTS = flag('--clients', 10);
const SECONDS = flag('--seconds', 5);
const THREADS = flag('--threads', 1);
const ROUNDS = Math.max(1, flag('--rounds', 5));
const STREAMS = 10;

function onPath(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
}

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => (s.destroy(), resolve(true)));
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`server on port ${port} did not come up`);
}

interface Server {
  name: string;
  url: string;
  stop(): void;
}

async function startServer(): Promise<Server> {
  const port = await freePort();
  if (onPath('nginx')) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-loadgen-'));
    fs.writeFileSync(path.join(dir, 'nginx.conf'), `worker_processes 1;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 10000000;
  client_body_temp_path ${dir}; proxy_temp_path ${dir}; fastcgi_temp_path ${dir}; uwsgi_temp_path ${dir}; scgi_temp_path ${dir};
  server { listen 127.0.0.1:${port}; location / { return 200 'Hello, World!'; } }
}
`);
    const child = spawn('nginx', ['-c', path.join(dir, 'nginx.conf'), '-p', dir], { stdio: 'ignore' });
    await waitForPort(port);
    return { name: 'nginx (1 worker)', url: `http://127.0.0.1:${port}/`, stop: () => (child.kill('SIGTERM'), fs.rmSync(dir, { recursive: true, force: true })) };
  }
  console.log(`nginx is not on PATH (${INSTALL_HINT}); using herd serve --engine fast`);
  const child = spawn(process.execPath, [HERD, 'serve', '--port', String(port), '--host', '127.0.0.1', '--workers', '1', '--engine', 'fast'], { stdio: 'ignore' });
  await waitForPort(port);
  return { name: 'herd serve --engine fast (1 worker)', url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

interface Measured {
  /** Requests that got a successful (2xx/3xx) reply. */
  requests: number;
  cpuMicros: number;
  /** The user-space part of cpuMicros (the rest is the kernel's, mostly loopback TCP). */
  userMicros: number;
}

/**
 * Runs a generator under a shell that reports, once the generator has exited and been reaped,
 * its own cutime+cstime: the CPU of the generator's whole process tree, exactly.
 */
function measure(command: string, args: string[]): Promise<{ stdout: string; cpuMicros: number; userMicros: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn('bash', ['-c', '"$@"; cat /proc/$$/stat >&2', 'measure', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', () => {
      const statLine = stderr.trim().split('\n').pop() ?? '';
      try {
        const stat = parseProcStat(statLine);
        const micros = 1e6 / clockTicksPerSecond();
        resolve({ stdout, cpuMicros: (stat.cutime + stat.cstime) * micros, userMicros: stat.cutime * micros });
      } catch {
        reject(new Error(`${command} failed: ${stderr.slice(0, 300)}`));
      }
    });
  });
}

function number(pattern: RegExp, text: string, what: string): number {
  const m = pattern.exec(text);
  if (!m) throw new Error(`could not read ${what} from:\n${text}`);
  return Number(m[1]);
}

type Mode = 'keep-alive' | 'close' | 'http2';
interface Generator {
  name: string;
  available: boolean;
  run(url: string, mode: Mode, seconds: number): Promise<Measured>;
}

const GENERATORS: Generator[] = [
  {
    name: 'herd bench',
    available: true,
    async run(url, mode, seconds) {
      const modeArgs = mode === 'keep-alive' ? ['-k', '-2'] : mode === 'http2' ? ['--http2', '--streams', String(STREAMS)] : [];
      const args = [HERD, 'bench', '--json', '-c', String(CLIENTS), '--threads', String(THREADS), '-t', String(seconds), ...modeArgs, url];
      const { stdout, cpuMicros, userMicros } = await measure(process.execPath, args);
      return { requests: JSON.parse(stdout).requests.succeeded, cpuMicros, userMicros };
    },
  },
  {
    name: 'wrk',
    available: onPath('wrk'),
    async run(url, mode, seconds) {
      const args = ['-t', String(THREADS), '-c', String(CLIENTS), '-d', `${seconds}s`, ...(mode === 'close' ? ['-H', 'Connection: close'] : []), url];
      const { stdout, cpuMicros, userMicros } = await measure('wrk', args);
      const total = number(/(\d+) requests in/, stdout, 'wrk requests');
      const bad = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
      return { requests: total - (bad ? Number(bad[1]) : 0), cpuMicros, userMicros };
    },
  },
  {
    name: 'ab',
    available: onPath('ab'),
    async run(url, mode, seconds) {
      const args = ['-q', '-c', String(CLIENTS), '-t', String(seconds), '-n', '100000000', ...(mode === 'keep-alive' ? ['-k'] : []), url];
      const { stdout, cpuMicros, userMicros } = await measure('ab', args);
      const complete = number(/Complete requests:\s+(\d+)/, stdout, 'ab requests');
      const failed = number(/Failed requests:\s+(\d+)/, stdout, 'ab failures');
      return { requests: complete - failed, cpuMicros, userMicros };
    },
  },
  {
    name: 'autocannon',
    available: fs.existsSync(AUTOCANNON),
    async run(url, mode, seconds) {
      const args = ['--json', '-c', String(CLIENTS), '-d', String(seconds), ...(mode === 'close' ? ['-H', 'Connection=close'] : []), url];
      const { stdout, cpuMicros, userMicros } = await measure(AUTOCANNON, args);
      return { requests: JSON.parse(stdout)['2xx'], cpuMicros, userMicros };
    },
  },
];

// The floor under herd bench for a new connection per request (scripts/support/handle_client.ts):
// the same handles, no HTTP code. herd bench's cost above it is herd's; its cost above ab is Node's.
const FLOOR = 'floor: node handles, no HTTP';
GENERATORS.push({
  name: FLOOR,
  available: THREADS === 1, // one event loop: the floor of herd bench's single thread
  async run(url, _mode, seconds) {
    const { stdout, cpuMicros, userMicros } = await measure(process.execPath, [path.join(ROOT, 'scripts/support/handle_client.ts'), url, String(CLIENTS), String(seconds)]);
    return { requests: JSON.parse(stdout).requests, cpuMicros, userMicros };
  },
});

GENERATORS.push({
  name: 'h2load',
  available: onPath('h2load'),
  async run(url, _mode, seconds) {
    const args = ['-c', String(CLIENTS), '-t', String(THREADS), '-m', String(STREAMS), '-D', String(seconds), url];
    const { stdout, cpuMicros, userMicros } = await measure('h2load', args);
    return { requests: number(/(\d+) succeeded/, stdout, 'h2load requests'), cpuMicros, userMicros };
  },
});

/** Which generators can load each mode (h2load speaks HTTP/2 only; herd bench all three). */
function speaks(g: Generator, mode: Mode): boolean {
  if (mode === 'http2') return g.name === 'herd bench' || g.name === 'h2load';
  if (g.name === FLOOR) return mode === 'close';
  return g.name !== 'h2load';
}

/** A node:http2 cleartext server (prior knowledge), for the HTTP/2 rows when h2load is installed. */
async function startH2Server(): Promise<Server> {
  const port = await freePort();
  const child = spawn(process.execPath, [H2_SERVER, String(port)], { stdio: 'ignore' });
  await waitForPort(port);
  return { name: 'node:http2 h2c', url: `http://127.0.0.1:${port}/`, stop: () => child.kill('SIGTERM') };
}

const server = await startServer();
const h2Server = onPath('h2load') ? await startH2Server() : null;
process.on('exit', () => {
  server.stop();
  h2Server?.stop();
});
console.log(`server: ${server.name} at ${server.url}; ${CLIENTS} clients, ${THREADS} thread(s), ${SECONDS} s per run, ${ROUNDS} interleaved rounds; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Node ${process.version}`);
for (const g of GENERATORS) if (!g.available) console.log(`${g.name}: not found, skipped (${INSTALL_HINT})`);
const asked = process.argv.includes('--modes') ? process.argv[process.argv.indexOf('--modes') + 1].split(',') : ['keep-alive', 'close', 'http2'];
const MODES = (['keep-alive', 'close', 'http2'] as const).filter((m) => asked.includes(m) && (m !== 'http2' || h2Server !== null));

// Each generator runs twice, SHORT and SECONDS long. The whole-run figure includes start-up (for
// herd bench and autocannon that is Node's start and TypeScript stripping, ~0.4 s of CPU); the
// marginal figure, (CPU long - CPU short) / (requests long - requests short), is the cost of one
// more request once running, with every tool's fixed start-up cancelled out.
const SHORT = 1;
interface Row { rps: number; whole: number; marginal: number; marginalUser: number }
const measured = new Map<string, Row[]>(); // `${mode} ${name}` → one row per round (NaN where it failed)
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) {
    for (const g of GENERATORS.filter((x) => x.available && speaks(x, mode))) {
      const key = `${mode} ${g.name}`;
      const rows = measured.get(key) ?? [];
      measured.set(key, rows);
      const url = mode === 'http2' ? h2Server!.url : server.url;
      try {
        const short = await g.run(url, mode, SHORT);
        const long = await g.run(url, mode, SECONDS);
        rows.push({
          rps: long.requests / SECONDS,
          whole: long.cpuMicros / long.requests,
          marginal: (long.cpuMicros - short.cpuMicros) / (long.requests - short.requests),
          marginalUser: (long.userMicros - short.userMicros) / (long.requests - short.requests),
        });
      } catch (err) {
        rows.push({ rps: NaN, whole: NaN, marginal: NaN, marginalUser: NaN });
        console.log(`${g.name} (${mode}, round ${round + 1}): ${(err as Error).message.split('\n')[0]}`);
      }
    }
  }
}

const MODE_NAMES: Record<Mode, string> = { 'keep-alive': 'keep-alive', close: 'connection per request', http2: `HTTP/2, ${STREAMS} streams` };
const finite = (values: number[]): number[] => values.filter(Number.isFinite);
/** A generator's CPU per request over the peer's, round by round: median, min–max, bootstrap 95 % interval. */
function ratioText(mode: Mode, name: string, peer: string, figure: 'marginal' | 'whole'): string {
  const mine = measured.get(`${mode} ${name}`);
  const theirs = measured.get(`${mode} ${peer}`);
  if (!mine || !theirs || name === peer) return '-';
  const c = compareFigure(theirs.map((r) => r[figure]), mine.map((r) => r[figure]));
  if (!Number.isFinite(c.ratio)) return '-';
  return `${c.ratio.toFixed(2)}x (${c.min.toFixed(2)}–${c.max.toFixed(2)}; ${c.low.toFixed(2)}–${c.high.toFixed(2)})`;
}
console.log(`\nMedians of ${ROUNDS} rounds; ratios are the median of each round's own ratio (min–max; bootstrap 95 % interval).`);
console.log('\n| mode | generator | requests/s | CPU µs/request, whole run | CPU µs/request, marginal | of which user space | marginal vs wrk | marginal vs ab | marginal vs h2load |');
console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|');
const rowsByMode = [...measured].map(([key, rows]) => {
  const mode = MODES.find((m) => key.startsWith(`${m} `))!;
  return { mode, name: key.slice(mode.length + 1), rows };
});
for (const { mode, name, rows } of rowsByMode) {
  const rps = median(finite(rows.map((r) => r.rps)));
  const whole = median(finite(rows.map((r) => r.whole)));
  const marginal = median(finite(rows.map((r) => r.marginal)));
  const user = median(finite(rows.map((r) => r.marginalUser)));
  console.log(`| ${MODE_NAMES[mode]} | ${name} | ${rps.toFixed(0)} | ${whole.toFixed(1)} | ${marginal.toFixed(1)} | ${user.toFixed(1)} | ${ratioText(mode, name, 'wrk', 'marginal')} | ${ratioText(mode, name, 'ab', 'marginal')} | ${ratioText(mode, name, 'h2load', 'marginal')} |`);
}
if (measured.has(`close ${FLOOR}`)) {
  console.log(`\nConnection per request, marginal: herd bench costs ${ratioText('close', 'herd bench', FLOOR, 'marginal')} the floor (herd's own code); ` +
    `the floor costs ${ratioText('close', FLOOR, 'ab', 'marginal')} ab (Node's handles against ab's C).`);
}
// The whole-run figure charges each tool's start-up to the requests of one run (Node's start and
// type stripping, ~0.3 s of CPU for herd bench, against a few ms for wrk): shown, not the target.
console.log('\nWhole run, start-up included:\n\n| mode | generator | whole vs wrk | whole vs ab | whole vs h2load |');
console.log('|---|---|---:|---:|---:|');
for (const { mode, name } of rowsByMode.filter((r) => r.name === 'herd bench')) {
  console.log(`| ${MODE_NAMES[mode]} | ${name} | ${ratioText(mode, name, 'wrk', 'whole')} | ${ratioText(mode, name, 'ab', 'whole')} | ${ratioText(mode, name, 'h2load', 'whole')} |`);
}
console.log('\nTargets (issues 5, 19), on the marginal figure (the cost of one more request, start-up cancelled): herd bench <= 1.0x wrk on keep-alive, <= 1.0x ab on connection per request, within 2x h2load on HTTP/2, clearly below autocannon.');
server.stop();
process.exit(0);
