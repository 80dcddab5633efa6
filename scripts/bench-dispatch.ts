// npm run bench:dispatch — one run, one load generator (wrk), 2 workers, hello world on node:http:
// herd's three dispatch modes against node's cluster (SCHED_RR, SCHED_NONE) and a single
// node:http process, keep-alive and connection-per-request. Prints requests/s, the server's CPU
// microseconds per request (utime+stime of its whole process tree from /proc), each worker's
// share, and ratios against single-process node:http from the same run.
// Environment: BENCH_SECONDS (default 8), BENCH_CONNECTIONS (default 50), BENCH_ROUNDS (default 1:
// with N, every server is measured N times, interleaved, and each figure is the median of its rounds),
// BENCH_CLOSE=0 (keep-alive only).
// Target (issue 14): herd reuseport's keep-alive CPU per request <= 1.1x node cluster SCHED_NONE's.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ServerModel } from '../src/lab/models.ts';
import { measureUnderWrk } from './support/measure_server.ts';
import { measureRounds, medianRows, type RoundRow } from './support/median.ts';
import { requireWrk } from './support/wrk.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 1));
const MODES = process.env.BENCH_CLOSE === '0' ? [false] : [false, true];
const OWN_OVERHEAD_TARGET = 1.1;
const HOST = '127.0.0.1';

const MODELS: ServerModel[] = [
  { id: 'node:http (1 process)', kind: 'single', engine: 'node', dispatch: null, workers: 1 },
  { id: 'herd reuseport', kind: 'pool', engine: 'node', dispatch: 'reuseport', workers: 2 },
  { id: 'herd shared', kind: 'pool', engine: 'node', dispatch: 'shared', workers: 2 },
  { id: 'herd handoff (rr)', kind: 'pool', engine: 'node', dispatch: 'handoff', workers: 2 },
  { id: 'cluster SCHED_RR', kind: 'cluster-rr', engine: 'node', dispatch: null, workers: 2 },
  { id: 'cluster SCHED_NONE', kind: 'cluster-none', engine: 'node', dispatch: null, workers: 2 },
];

interface Row extends RoundRow {
  share: string;
}

async function measure(model: ServerModel, close: boolean, workDir: string): Promise<Row> {
  const m = await measureUnderWrk(model, { host: HOST, workDir, close, seconds: SECONDS, warmupSeconds: 1, connections: CONNECTIONS });
  let share = '-';
  if (m.perWorker) {
    const total = m.perWorker.counts.reduce((a, b) => a + b, 0);
    if (total > 0) share = `${m.perWorker.counts.map((n) => `${Math.round((100 * n) / total)}%`).join('/')} (${m.perWorker.source})`;
  }
  return { server: model.id, rps: m.rps, cpuPerRequest: m.cpuPerRequest, errors: m.errors, share };
}

function print(title: string, rows: Row[]): void {
  const base = rows[0];
  console.log(`\n## ${title}\n`);
  console.log('| server | requests/s | CPU µs/request | CPU vs node:http | errors | worker share |');
  console.log('|---|---:|---:|---:|---:|---|');
  for (const r of rows) {
    console.log(`| ${r.server} | ${r.rps.toFixed(0)} | ${r.cpuPerRequest.toFixed(1)} | ${(r.cpuPerRequest / base.cpuPerRequest).toFixed(2)}x | ${r.errors} | ${r.share} |`);
  }
}

requireWrk();
const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-dispatch-'));
try {
  console.log(
    `bench:dispatch — wrk -t1 -c${CONNECTIONS} -d${SECONDS}s, 2 workers, hello world on node:http, ${ROUNDS === 1 ? 'one round' : `median of ${ROUNDS} rounds`}; ` +
      `${os.cpus().length} cores, ${os.cpus()[0]?.model ?? ''}, Linux ${os.release()}, Node ${process.version}`,
  );
  let missed = false;
  for (const close of MODES) {
    const rounds = await measureRounds(ROUNDS, MODELS, (model) => measure(model, close, workDir));
    const rows = medianRows(rounds);
    print(close ? 'connection per request (Connection: close)' : 'keep-alive', rows);
    if (ROUNDS > 1 && close) {
      const each = rounds.map((round) => {
        const of = (id: string) => round.find((r) => r.server === id)!.cpuPerRequest;
        return (of('herd handoff (rr)') / of('cluster SCHED_RR')).toFixed(2) + 'x';
      });
      console.log(`\nhandoff / cluster SCHED_RR, each round: ${each.join(' ')}`);
    }
    const by = (id: string) => rows.find((r) => r.server === id)!.cpuPerRequest;
    const single = by('node:http (1 process)');
    if (!close) {
      const ratio = by('herd reuseport') / by('cluster SCHED_NONE');
      if (ratio > OWN_OVERHEAD_TARGET) missed = true;
      console.log(`\ntarget: herd reuseport keep-alive CPU/request <= ${OWN_OVERHEAD_TARGET}x cluster SCHED_NONE: ${ratio.toFixed(2)}x — ${ratio <= OWN_OVERHEAD_TARGET ? 'met' : 'MISSED'}`);
      if (ROUNDS > 1) {
        const each = rounds.map((round) => {
          const of = (id: string) => round.find((r) => r.server === id)!.cpuPerRequest;
          return (of('herd reuseport') / of('cluster SCHED_NONE')).toFixed(2) + 'x';
        });
        console.log(`each round: ${each.join(' ')}`);
      }
    }
    console.log(`\nexpected: reuseport ≤ 1.1x node:http → ${(by('herd reuseport') / single).toFixed(2)}x; shared ≤ 1.1x → ${(by('herd shared') / single).toFixed(2)}x; handoff ≤ 1.1x cluster SCHED_RR (both send each descriptor and wait for the worker's reply) → ${(by('herd handoff (rr)') / by('cluster SCHED_RR')).toFixed(2)}x`);
  }
  process.exitCode = missed ? 1 : 0;
} finally {
  fs.rmSync(workDir, { recursive: true, force: true });
}
