// The herd section of results.md and report.html, and the findings, from a fixed experiment: the
// tables carry the cells' figures, the findings judge the seed's claims from them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HerdCell, HerdExperiment, HerdServer } from '../../../src/lab/herd/herd_results.ts';
import { summarizeHerd } from '../../../src/lab/herd/herd_summary.ts';
import { methodText } from '../../../src/lab/herd/experiment.ts';
import { renderHtml } from '../../../src/lab/html_report.ts';
import { renderMarkdown } from '../../../src/lab/markdown_report.ts';
import type { LabResults } from '../../../src/lab/results.ts';

function cell(server: HerdServer, workers: number, wakeups: number, p99: number): HerdCell {
  return {
    server, workers, load: 'sequential', tracer: 'perf', tracedConnections: 40, loopEagains: 0,
    eagainPerConnection: 0, wastedWakeupsPerConnection: 0, acceptWakeupsPerConnection: 1,
    schedWakeupsPerConnection: wakeups, switchesPerConnection: wakeups + 0.3,
    connections: 40, failed: 0, cpuMicrosPerConnection: 250, p50Ms: p99 / 3, p99Ms: p99,
  };
}

function experiment(): HerdExperiment {
  const h: HerdExperiment = {
    settings: { workers: [1, 4], servers: ['herd-shared', 'herd-reuseport', 'nginx-accept-mutex', 'nginx-exclusive'], loads: ['sequential'], sequentialConnections: 40, bursts: 1, burstSize: 100, threadsWorkers: [2], threadsRounds: 1, threadsSeconds: 1 },
    tracer: 'perf',
    method: methodText('perf'),
    cells: [
      cell('herd-shared', 1, 1.4, 1), cell('herd-shared', 4, 4.7, 1.2),
      cell('herd-reuseport', 1, 1.3, 1), cell('herd-reuseport', 4, 1.5, 1.1),
      cell('nginx-accept-mutex', 1, 1.1, 0.5), cell('nginx-accept-mutex', 4, 1.2, 9.5),
      cell('nginx-exclusive', 1, 1.1, 0.5), cell('nginx-exclusive', 4, 1.2, 0.7),
    ],
    demonstrations: [
      { mode: 'blocking-accept', processes: 4, woke: 1, roused: 1, accepted: 1, failedAccepts: 0 },
      { mode: 'shared-epoll-sleep', processes: 4, woke: 4, roused: 4, accepted: 1, failedAccepts: 3 },
    ],
    threads: [
      { model: 'threads-w2', kind: 'threads', workers: 2, keepAlive: true, rps: 9000, cpuMicrosPerRequest: 25, rssMiB: 120, pssMiB: 110 },
      { model: 'pool-reuseport-fast-w2', kind: 'pool', workers: 2, keepAlive: true, rps: 9100, cpuMicrosPerRequest: 24, rssMiB: 200, pssMiB: 165 },
    ],
    crashes: [
      { model: 'threads-w4', kind: 'threads', workers: 4, crash: 'sigsegv', processSurvived: false, okAfterCrash: 0, failedAfterCrash: 300, servedLater: 0 },
      { model: 'pool-reuseport-fast-w4', kind: 'pool', workers: 4, crash: 'sigsegv', processSurvived: true, okAfterCrash: 500, failedAfterCrash: 1, servedLater: 20 },
    ],
    notes: ['herd: a note of the run'],
    summary: [],
  };
  h.summary = summarizeHerd(h);
  return h;
}

function labResults(herd: HerdExperiment): LabResults {
  return {
    tool: 'herd lab', command: 'herd lab --experiment herd', startedAt: '2026-12-03T17:00:00.000Z', finishedAt: '2026-12-03T17:03:00.000Z', complete: true,
    machine: { cores: 2, cpuModel: 'test cpu', memoryGiB: 4, kernel: 'Linux 6.18', node: 'v24', somaxconn: 4096, hostname: 'h' },
    settings: { concurrency: [], modes: ['close'], durationSec: 1, workers: [], trace: false, host: '127.0.0.1', port: 1 },
    models: [], cells: [], notes: [], summary: [], herd,
  };
}

test('findings: each claim judged from the cells', () => {
  const [grows, flat, mutex, memory, isolation, demos] = experiment().summary;
  assert.equal(grows.agrees, true, grows.thisRun);
  assert.match(grows.thisRun, /herd-shared: 1\.40 at 1 worker, 4\.70 at 4/);
  assert.equal(flat.agrees, true, flat.thisRun);
  assert.match(flat.thisRun, /herd-reuseport 1\.30 at 1, 1\.50 at 4/);
  assert.match(mutex.thisRun, /p99 9\.50 ms against 0\.70 ms \(13\.57×\)/);
  assert.equal(mutex.agrees, true, 'the mutex keeps the wake-ups flat');
  assert.equal(memory.agrees, true);
  assert.match(memory.thisRun, /PSS 110 MiB against 165 MiB/);
  assert.equal(isolation.agrees, true);
  assert.equal(demos.agrees, true);
  // Not enough cells: said, not guessed.
  const empty = { ...experiment(), cells: [], crashes: [], threads: [], demonstrations: [] };
  for (const f of summarizeHerd(empty)) assert.equal(f.agrees, null, f.thisRun);
});

test('results.md and report.html carry the herd section: method, findings, tables, charts', () => {
  const results = labResults(experiment());
  const md = renderMarkdown(results);
  assert.match(md, /## The thundering herd/);
  assert.match(md, /### Method, overhead and limits/);
  assert.match(md, /perf stat -a/);
  assert.match(md, /lower bound/);
  assert.match(md, /\| herd-shared \| 1\.40 \| 4\.70 \|/, 'the scheduler wake-ups table, a row per server, a column per N');
  assert.match(md, /\| nginx-accept-mutex \| 0\.50 \| 9\.50 \|/, 'the p99 table');
  assert.match(md, /\| threads-w2 \| keep-alive \| 9000 \| 25\.0 \| 120 \| 110 \|/);
  assert.match(md, /\| threads-w4 \| sigsegv \| no \| 0 \| 300 \| 0 \|/);
  assert.match(md, /all block in accept\(\) on one socket \| 4 \| 1 \| 1 \| 1 \| 0 \|/);
  assert.doesNotMatch(md, /## Summary: the seed's conclusions/, 'a herd-only run has no empty matrix sections');
  const html = renderHtml(results);
  assert.match(html, /<h2 id="herd">The thundering herd<\/h2>/);
  assert.match(html, /<div id="herd-charts"><\/div>/);
  assert.match(html, /Wake-ups per connection \(sched_wakeup of the event loops\)/);
  const data = JSON.parse(/<script type="application\/json" id="lab-data">(.*?)<\/script>/s.exec(html)![1]) as LabResults;
  assert.equal(data.herd!.cells.length, 8, 'the charts read the cells embedded in the page');
});
