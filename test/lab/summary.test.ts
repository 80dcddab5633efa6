// The summary's logic on hand-made cells: each of the seed's conclusions is decided from the numbers
// given, flips when the numbers flip, and says 'cannot tell' when the cells to decide it are missing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandModels, type ServerModel } from '../../src/lab/models.ts';
import { formatDuration, progressBar } from '../../src/lab/progress.ts';
import type { CellResult, LabSettings } from '../../src/lab/results.ts';
import { summarize } from '../../src/lab/summary.ts';

const settings: LabSettings = { concurrency: [1, 100], modes: ['close'], durationSec: 1, workers: [1, 2], trace: false, host: '127.0.0.1', port: 1 };

function cell(model: string, concurrency: number, pagesPerMin: number, extra: Partial<CellResult> = {}): CellResult {
  return {
    model, mode: 'close', concurrency, durationSec: 1, succeeded: pagesPerMin / 60, failed: 0,
    errors: { refused: 0, reset: 0, timeout: 0, bad_response: 0, other: 0 }, rps: pagesPerMin / 60, pagesPerMin, p99Ms: 1,
    serverCpuMicros: 1, cpuMicrosPerRequest: 1, voluntarySwitchesPerRequest: 1, involuntarySwitchesPerRequest: 0,
    listenOverflows: 0, listenDrops: 0, acceptQueue: { samples: 1, max: 0, mean: 0 }, workerShare: null, trace: null, ...extra,
  };
}

const share = (maxShare: number) => ({ source: 'requests' as const, perWorker: [maxShare, 1 - maxShare], maxShare, maxOverMin: maxShare / (1 - maxShare) });

const models: ServerModel[] = expandModels({ models: ['serial', 'pool'], peers: [], workers: [1, 2], engines: ['fast'], dispatch: ['reuseport', 'shared'] });

test('the seed agrees: serial competitive at 1 client, the pool ahead at 100, 2 workers ahead at 100, shared herds and is least fair', () => {
  const cells = [
    cell('serial', 1, 100_000), cell('serial', 100, 30_000),
    cell('pool-reuseport-fast-w1', 1, 90_000), cell('pool-reuseport-fast-w1', 100, 100_000),
    cell('pool-reuseport-fast-w2', 1, 95_000, { workerShare: share(0.5), voluntarySwitchesPerRequest: 2 }),
    cell('pool-reuseport-fast-w2', 100, 150_000, { workerShare: share(0.52), voluntarySwitchesPerRequest: 2 }),
    cell('pool-shared-fast-w2', 1, 80_000, { workerShare: share(0.9), voluntarySwitchesPerRequest: 5 }),
    cell('pool-shared-fast-w2', 100, 140_000, { workerShare: share(0.7), voluntarySwitchesPerRequest: 4 }),
  ];
  const [serial, ahead, workers, herd, fair] = summarize({ cells, models, settings });
  assert.equal(serial.agrees, true);
  assert.match(serial.thisRun, /105% of the best event-loop server \(pool-reuseport-fast-w2/);
  assert.equal(ahead.agrees, true);
  assert.match(ahead.thisRun, /at 100 clients: pool-reuseport-fast-w2 serves 150,000 pages\/min against serial's 30,000/);
  assert.equal(workers.agrees, true);
  assert.equal(herd.agrees, true);
  assert.match(herd.thisRun, /voluntary context switches per request.*shared 4\.50, reuseport 2\.00/);
  assert.equal(fair.agrees, true);
  assert.match(fair.thisRun, /`reuseport` is the fairest, `shared` the least fair/);
});

test('the seed differs when the numbers do, and strace counts decide the herd when traced', () => {
  const trace = (failed: number) => ({ seconds: 1, connections: 100, acceptCallsPerConnection: 1 + failed, failedAcceptsPerConnection: failed, epollWaitsPerConnection: 1 });
  const cells = [
    cell('serial', 1, 200_000), cell('serial', 100, 200_000),
    cell('pool-reuseport-fast-w1', 1, 90_000), cell('pool-reuseport-fast-w1', 100, 100_000),
    cell('pool-reuseport-fast-w2', 100, 90_000, { workerShare: share(0.95), trace: trace(0.8) }),
    cell('pool-shared-fast-w2', 100, 80_000, { workerShare: share(0.5), trace: trace(0.1) }),
  ];
  const [serial, ahead, workers, herd, fair] = summarize({ cells, models, settings: { ...settings, trace: true } });
  assert.equal(serial.agrees, true);
  assert.equal(ahead.agrees, false);
  assert.match(ahead.thisRun, /^No pool or single server reaches 1\.25× serial/);
  assert.equal(workers.agrees, false);
  assert.equal(herd.agrees, false);
  assert.match(herd.thisRun, /failed \(EAGAIN\) accepts per connection.*reuseport 0\.80, shared 0\.10/);
  assert.equal(fair.agrees, false);
});

test('a serial server far behind at the lowest concurrency is not competitive', () => {
  const cells = [cell('serial', 1, 10_000), cell('pool-shared-fast-w2', 1, 90_000)];
  const [serial, ahead] = summarize({ cells, models, settings });
  assert.equal(serial.agrees, false);
  assert.match(serial.thisRun, /11% of the best.*below 80% from the lowest concurrency on/);
  assert.equal(ahead.agrees, true);
  assert.match(ahead.thisRun, /at 1 client:/);
});

test('cannot tell without the cells that decide it', () => {
  const findings = summarize({ cells: [cell('serial', 1, 1000)], models, settings });
  assert.deepEqual(findings.map((f) => f.agrees), [null, null, null, null, null]);
  for (const f of findings) assert.match(f.thisRun, /^not measured: /);
});

test('models expand into one entry per engine, dispatch mode and worker count, peers per worker count', () => {
  const ids = expandModels({ models: ['serial', 'single', 'pool'], peers: ['cluster-rr', 'nginx'], workers: [1, 2], engines: ['node', 'fast'], dispatch: ['handoff'] }).map((m) => m.id);
  assert.deepEqual(ids, [
    'serial', 'single-fast', 'single-node',
    'pool-handoff-fast-w1', 'pool-handoff-fast-w2', 'pool-handoff-node-w1', 'pool-handoff-node-w2',
    'cluster-rr-w1', 'cluster-rr-w2', 'nginx-w1', 'nginx-w2',
  ]);
});

test('progress: durations and the bar', () => {
  assert.equal(formatDuration(59.4), '59s');
  assert.equal(formatDuration(61), '1m01s');
  assert.equal(formatDuration(3 * 3600 + 120), '3h02m');
  assert.equal(progressBar(1, 4, 8), '[##------]');
  assert.equal(progressBar(0, 0, 4), '[####]');
});
