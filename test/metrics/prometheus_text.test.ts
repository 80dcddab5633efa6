// The supervisor's side of --metrics without processes: a slot's counters survive its workers, a
// worker that stops reporting is not up, and the text is Prometheus' (or OpenMetrics') format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HerdMetrics, STALE_AFTER_MS } from '../../src/metrics/herd_metrics.ts';
import { renderMetrics, type HerdFacts } from '../../src/metrics/prometheus_text.ts';
import { emptySnapshot, type MetricsSnapshot } from '../../src/metrics/snapshot.ts';

function snapshot(get2xx: number, post5xx = 0, durations: number[] = []): MetricsSnapshot {
  const s = emptySnapshot();
  s.requests['GET 2xx'] = get2xx;
  if (post5xx) s.requests['POST 5xx'] = post5xx;
  durations.forEach((n, i) => (s.durationCounts[i] = n));
  s.durationSumSeconds = 0.5;
  s.bodyBytes = 100 * get2xx;
  s.connectionsAccepted = get2xx;
  s.cpuSeconds = 1;
  s.rssBytes = 50e6;
  return s;
}

const facts = (metrics: HerdMetrics, now: number): HerdFacts => ({
  slots: metrics.slots(now), restarts: new Map([[1, 1], [2, 0]]), reloads: 2, handoffQueued: null, accessLog: false, listenOverflows: 7,
});

test("a respawned worker starts from zero, the slot's counters do not", () => {
  const m = new HerdMetrics();
  m.report(1, 101, snapshot(10, 1), 0);
  m.report(2, 201, snapshot(5), 0);
  m.report(1, 101, snapshot(12, 1), 1000); // cumulative: the later report replaces the earlier
  m.exited(101);
  m.report(1, 102, snapshot(3), 2000);
  const text = renderMetrics(facts(m, 2000), false);
  assert.match(text, /^herd_http_requests_total\{code="2xx",method="GET"\} 20$/m); // 12 + 3 + 5
  assert.match(text, /^herd_http_requests_total\{code="5xx",method="POST"\} 1$/m);
  assert.match(text, /^herd_worker_cpu_seconds_total\{worker="1"\} 2$/m);
  assert.match(text, /^herd_worker_up\{worker="1",pid="102"\} 1$/m);
  assert.match(text, /^herd_worker_restarts_total\{worker="1"\} 1$/m);
  assert.match(text, /^herd_reloads_total 2$/m);
  assert.match(text, /^herd_listen_overflows_total 7$/m);
});

test('a worker that has not reported for a while is not up, and its last figures stay', () => {
  const m = new HerdMetrics();
  m.report(1, 101, snapshot(4), 0);
  const text = renderMetrics(facts(m, STALE_AFTER_MS + 1), false);
  assert.match(text, /^herd_worker_up\{worker="1",pid="101"\} 0$/m);
  assert.match(text, /^herd_http_requests_total\{code="2xx",method="GET"\} 4$/m);
});

test('the histogram is cumulative and its count is the +Inf bucket', () => {
  const m = new HerdMetrics();
  m.report(1, 101, snapshot(6, 0, [3, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]), 0);
  const text = renderMetrics(facts(m, 0), false);
  assert.match(text, /^herd_http_request_duration_seconds_bucket\{le="0.005"\} 3$/m);
  assert.match(text, /^herd_http_request_duration_seconds_bucket\{le="0.01"\} 5$/m);
  assert.match(text, /^herd_http_request_duration_seconds_bucket\{le="10"\} 5$/m);
  assert.match(text, /^herd_http_request_duration_seconds_bucket\{le="\+Inf"\} 6$/m);
  assert.match(text, /^herd_http_request_duration_seconds_count 6$/m);
  assert.match(text, /^# TYPE herd_http_request_duration_seconds histogram$/m);
});

test('every sample line follows the exposition format; OpenMetrics names counter families without _total and ends with # EOF', () => {
  const m = new HerdMetrics();
  m.report(1, 101, snapshot(1), 0);
  const text = renderMetrics(facts(m, 0), false);
  for (const line of text.trimEnd().split('\n')) {
    assert.match(line, /^(# (HELP|TYPE) herd_\w+ .+|herd_\w+(\{(\w+="[^"]*",?)+\})? -?[\d.e+-]+|herd_\w+(\{[^}]*\})? \+Inf)$/, line);
  }
  assert.ok(!text.includes('# EOF'));
  const open = renderMetrics(facts(m, 0), true);
  assert.match(open, /^# TYPE herd_http_requests counter$/m);
  assert.match(open, /^herd_http_requests_total\{code="2xx",method="GET"\} 1$/m);
  assert.ok(open.endsWith('# EOF\n'));
});
