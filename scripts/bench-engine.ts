// npm run bench:engine — one run, one load generator (wrk), 2 workers, 'Hello, World!':
// herd's fast engine and node engine (`herd serve --engine fast|node --workers 2`) against nginx
// (2 workers, its config in a temporary directory), keep-alive and connection-per-request.
// Prints requests/s and the server's CPU microseconds per request (utime+stime of its whole process
// tree from /proc, before and after, over requests served) and ratios against nginx from this run.
// Targets (issue 3): fast within 1.2x of nginx's CPU per request on keep-alive, 1.3x per connection.
// The machine is shared and noisy: BENCH_ROUNDS=N measures every server N times, interleaved, and
// reports each one's median (requests/s and CPU/request), so one disturbed run does not decide.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerModel } from '../src/lab/models.ts';
import { findNginx } from '../src/lab/nginx_config.ts';
import { measureUnderWrk } from './support/measure_server.ts';
import { measureRounds, medianRows, type RoundRow as Row } from './support/median.ts';
import { requireWrk } from './support/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const HOST = '127.0.0.1';

const NGINX: ServerModel = { id: 'nginx', kind: 'nginx', engine: null, dispatch: null, workers: 2 };
const ENGINES: ServerModel[] = [
  { id: 'herd fast', kind: 'pool', engine: 'fast', dispatch: 'reuseport', workers: 2 },
  { id: 'herd node', kind: 'pool', engine: 'node', dispatch: 'reuseport', workers: 2 },
];

async function measure(model: ServerModel, close: boolean, workDir: string): Promise<Row> {
  const m = await measureUnderWrk(model, { host: HOST, workDir, close, seconds: SECONDS, warmupSeconds: 2, connections: CONNECTIONS });
  return { server: model.id, rps: m.rps, cpuPerRequest: m.cpuPerRequest, errors: m.errors };
}

function print(title: string, rows: Row[], base: Row | undefined): void {
  console.log(`\n## ${title}\n`);
  console.log(`| server | requests/s | CPU µs/request | CPU vs nginx | errors |`);
  console.log('|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const ratio = base ? `${(r.cpuPerRequest / base.cpuPerRequest).toFixed(2)}x` : '-';
    console.log(`| ${r.server} | ${r.rps.toFixed(0)} | ${r.cpuPerRequest.toFixed(1)} | ${ratio} | ${r.errors} |`);
  }
}

requireWrk();
const nginx = findNginx();
if (nginx === null) {
  console.log('nginx is not on PATH: comparing the engines only. To add the peer: apt-get install nginx-light');
}
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-engine-'));
let missed = false;
try {
  console.log(
    `bench:engine — wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, 2 workers, hello world, ${ROUNDS === 1 ? 'one round' : `median of ${ROUNDS} rounds`}; ${os.cpus().length} cores, ` +
      `${os.cpus()[0]?.model ?? ''}, Linux ${os.release()}, Node ${process.version}`,
  );
  for (const close of [false, true]) {
    const models = nginx !== null ? [NGINX, ...ENGINES] : ENGINES;
    const rounds = await measureRounds(ROUNDS, models, (model) => measure(model, close, workDir));
    const rows = medianRows(rounds);
    const base = nginx !== null ? rows[0] : undefined;
    print(close ? 'connection per request (Connection: close)' : 'keep-alive', rows, base);
    if (base) {
      const fast = rows.find((r) => r.server === 'herd fast')!;
      const target = close ? 1.3 : 1.2;
      const ratio = fast.cpuPerRequest / base.cpuPerRequest;
      const verdict = ratio <= target ? 'met' : 'MISSED';
      if (ratio > target) missed = true;
      console.log(`\ntarget: fast engine CPU/request <= ${target}x nginx: ${ratio.toFixed(2)}x — ${verdict}`);
      if (ROUNDS > 1) {
        const each = rounds.map((round) => (round.find((r) => r.server === 'herd fast')!.cpuPerRequest / round[0].cpuPerRequest).toFixed(2) + 'x');
        console.log(`each round: ${each.join(' ')}`);
      }
    }
  }
} finally {
  fs.rmSync(workDir, { recursive: true, force: true });
}
process.exitCode = missed ? 1 : 0;
