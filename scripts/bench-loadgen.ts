// npm run bench:loadgen -- [--clients N] [--seconds S]
// One run against one server (nginx when on PATH, else herd's fast engine via `herd serve`):
// herd bench, wrk, ab and autocannon with the same clients and seconds, keep-alive and a new
// connection per request. For each: requests/s and the generator's own CPU microseconds per
// request (utime+stime of its whole process tree), with ratios against wrk (keep-alive) and ab
// (connection per request), the targets of issue 5. Install hints are printed for missing tools.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { clockTicksPerSecond, parseProcStat } from '../src/lab/process_cpu.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const HERD = path.join(ROOT, 'src/cli/herd.ts');
const AUTOCANNON = path.join(ROOT, 'node_modules/.bin/autocannon');
const INSTALL_HINT = 'install with: sudo apt-get install wrk apache2-utils nginx (autocannon comes with npm install)';

function flag(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
}
const CLIENTS = flag('--clients', 10);
const SECONDS = flag('--seconds', 5);

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
}

/**
 * Runs a generator under a shell that reports, once the generator has exited and been reaped,
 * its own cutime+cstime: the CPU of the generator's whole process tree, exactly.
 */
function measure(command: string, args: string[]): Promise<{ stdout: string; cpuMicros: number }> {
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
        resolve({ stdout, cpuMicros: ((stat.cutime + stat.cstime) * 1e6) / clockTicksPerSecond() });
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

type Mode = 'keep-alive' | 'close';
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
      const args = [HERD, 'bench', '--json', '-c', String(CLIENTS), '-t', String(seconds), ...(mode === 'keep-alive' ? ['-k', '-2'] : []), url];
      const { stdout, cpuMicros } = await measure(process.execPath, args);
      return { requests: JSON.parse(stdout).requests.succeeded, cpuMicros };
    },
  },
  {
    name: 'wrk',
    available: onPath('wrk'),
    async run(url, mode, seconds) {
      const args = ['-t', '1', '-c', String(CLIENTS), '-d', `${seconds}s`, ...(mode === 'close' ? ['-H', 'Connection: close'] : []), url];
      const { stdout, cpuMicros } = await measure('wrk', args);
      const total = number(/(\d+) requests in/, stdout, 'wrk requests');
      const bad = /Non-2xx or 3xx responses: (\d+)/.exec(stdout);
      return { requests: total - (bad ? Number(bad[1]) : 0), cpuMicros };
    },
  },
  {
    name: 'ab',
    available: onPath('ab'),
    async run(url, mode, seconds) {
      const args = ['-q', '-c', String(CLIENTS), '-t', String(seconds), '-n', '100000000', ...(mode === 'keep-alive' ? ['-k'] : []), url];
      const { stdout, cpuMicros } = await measure('ab', args);
      const complete = number(/Complete requests:\s+(\d+)/, stdout, 'ab requests');
      const failed = number(/Failed requests:\s+(\d+)/, stdout, 'ab failures');
      return { requests: complete - failed, cpuMicros };
    },
  },
  {
    name: 'autocannon',
    available: fs.existsSync(AUTOCANNON),
    async run(url, mode, seconds) {
      const args = ['--json', '-c', String(CLIENTS), '-d', String(seconds), ...(mode === 'close' ? ['-H', 'Connection=close'] : []), url];
      const { stdout, cpuMicros } = await measure(AUTOCANNON, args);
      return { requests: JSON.parse(stdout)['2xx'], cpuMicros };
    },
  },
];

const server = await startServer();
process.on('exit', () => server.stop());
console.log(`server: ${server.name} at ${server.url}; ${CLIENTS} clients, ${SECONDS} s per run; ${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Node ${process.version}`);
for (const g of GENERATORS) if (!g.available) console.log(`${g.name}: not found, skipped (${INSTALL_HINT})`);

// Each generator runs twice, SHORT and SECONDS long. The whole-run figure includes start-up (for
// herd bench and autocannon that is Node's start and TypeScript stripping, ~0.4 s of CPU); the
// marginal figure, (CPU long - CPU short) / (requests long - requests short), is the cost of one
// more request once running, with every tool's fixed start-up cancelled out.
const SHORT = 1;
const rows: Array<{ mode: Mode; name: string; rps: number; whole: number; marginal: number }> = [];
for (const mode of ['keep-alive', 'close'] as const) {
  for (const g of GENERATORS.filter((x) => x.available)) {
    try {
      const short = await g.run(server.url, mode, SHORT);
      const long = await g.run(server.url, mode, SECONDS);
      rows.push({
        mode,
        name: g.name,
        rps: long.requests / SECONDS,
        whole: long.cpuMicros / long.requests,
        marginal: (long.cpuMicros - short.cpuMicros) / (long.requests - short.requests),
      });
    } catch (err) {
      console.log(`${g.name} (${mode}): ${(err as Error).message.split('\n')[0]}`);
    }
  }
}

console.log('\n| mode | generator | requests/s | CPU µs/request, whole run | CPU µs/request, marginal | marginal vs wrk | marginal vs ab |');
console.log('|---|---|---:|---:|---:|---:|---:|');
for (const row of rows) {
  const ref = (name: string) => rows.find((r) => r.mode === row.mode && r.name === name)?.marginal;
  const ratio = (base: number | undefined) => (base ? (row.marginal / base).toFixed(2) + 'x' : '-');
  const mode = row.mode === 'close' ? 'connection per request' : 'keep-alive';
  console.log(`| ${mode} | ${row.name} | ${row.rps.toFixed(0)} | ${row.whole.toFixed(1)} | ${row.marginal.toFixed(1)} | ${ratio(ref('wrk'))} | ${ratio(ref('ab'))} |`);
}
console.log('\nTargets (issue 5): herd bench ≤ 1.2x wrk on keep-alive, ≤ 1.3x ab on connection per request, clearly below autocannon.');
server.stop();
process.exit(0);
