// The scrape: HerdMetrics and the supervisor's own facts in Prometheus' text format 0.0.4, or in
// OpenMetrics 1.0 when the scraper asks for it (the same samples; counter families are named
// without _total, and the text ends with # EOF). Written by hand: a few dozen lines, no dependency,
// and nothing of it runs in a worker.
import { addCounters, DURATION_BUCKETS, emptySnapshot, type MetricsSnapshot } from './snapshot.ts';
import type { SlotView } from './herd_metrics.ts';

export const TEXT_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
export const OPENMETRICS_CONTENT_TYPE = 'application/openmetrics-text; version=1.0.0; charset=utf-8';

export interface HerdFacts {
  slots: SlotView[];
  restarts: Map<number, number>;
  reloads: number;
  /** Connections the supervisor holds for handoff that no worker has taken yet; null in other modes. */
  handoffQueued: number | null;
  /** Whether workers write an access log (its counters are then in the snapshots). */
  accessLog: boolean;
  /** TcpExt ListenOverflows of this network namespace, when /proc is readable. */
  listenOverflows: number | null;
}

type Sample = [labels: Record<string, string>, value: number];

class Families {
  private readonly out: string[] = [];
  private readonly openMetrics: boolean;
  constructor(openMetrics: boolean) {
    this.openMetrics = openMetrics;
  }

  family(name: string, type: 'counter' | 'gauge' | 'histogram', help: string, samples: Sample[], suffix = ''): void {
    const familyName = this.openMetrics && type === 'counter' ? name.replace(/_total$/, '') : name;
    this.out.push(`# HELP ${familyName} ${help}`, `# TYPE ${familyName} ${type}`);
    for (const [labels, value] of samples) this.out.push(`${name}${suffix}${labelText(labels)} ${formatValue(value)}`);
  }

  raw(line: string): void {
    this.out.push(line);
  }

  text(): string {
    if (this.openMetrics) this.out.push('# EOF');
    return this.out.join('\n') + '\n';
  }
}

function labelText(labels: Record<string, string>): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return '';
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`).join(',')}}`;
}

function formatValue(n: number): string {
  if (Number.isNaN(n)) return 'NaN';
  if (n === Infinity) return '+Inf';
  return String(n);
}

function herdTotals(slots: SlotView[]): MetricsSnapshot {
  const total = emptySnapshot();
  for (const s of slots) addCounters(total, s.totals);
  return total;
}

export function renderMetrics(facts: HerdFacts, openMetrics: boolean): string {
  const f = new Families(openMetrics);
  const slots = facts.slots;
  const total = herdTotals(slots);
  const requestSamples: Sample[] = Object.entries(total.requests)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([key, n]) => {
      const [method, code] = key.split(' ');
      return [{ code, method }, n];
    });
  f.family('herd_http_requests_total', 'counter', 'Responses finished, by status class and method.', requestSamples);

  const counts = total.durationCounts;
  let cumulative = 0;
  const buckets: Sample[] = counts.map((n, i) => {
    cumulative += n;
    return [{ le: i < DURATION_BUCKETS.length ? String(DURATION_BUCKETS[i]) : '+Inf' }, cumulative];
  });
  f.family('herd_http_request_duration_seconds', 'histogram', 'Time from the request to the end of its response.', buckets, '_bucket');
  f.raw(`herd_http_request_duration_seconds_sum ${total.durationSumSeconds}`);
  f.raw(`herd_http_request_duration_seconds_count ${cumulative}`);

  f.family('herd_http_response_body_bytes_total', 'counter', 'Response body bytes sent.', [[{}, total.bodyBytes]]);
  f.family('herd_connections_accepted_total', 'counter', 'Connections accepted by the workers.', [[{}, total.connectionsAccepted]]);
  const current = slots.filter((s) => s.current !== null).map((s) => ({ slot: String(s.slot), ...s.current! }));
  f.family('herd_connections_open', 'gauge', 'Connections open in the workers, as of their last reports.',
    [[{}, current.reduce((sum, c) => sum + c.snapshot.connectionsOpen, 0)]]);

  f.family('herd_worker_up', 'gauge', 'Whether the worker reported within the last 3 s (0: stopped or its event loop is stuck).',
    current.map((c) => [{ worker: c.slot, pid: String(c.pid) }, c.up ? 1 : 0]));
  f.family('herd_worker_resident_memory_bytes', 'gauge', "The worker's resident set size.", current.map((c) => [{ worker: c.slot }, c.snapshot.rssBytes]));
  f.family('herd_worker_cpu_seconds_total', 'counter', 'CPU time (user and system) of every worker that held the slot.',
    slots.map((s) => [{ worker: String(s.slot) }, s.totals.cpuSeconds]));
  f.family('herd_worker_event_loop_delay_seconds', 'gauge', "Event-loop delay over the worker's last report interval.",
    current.flatMap((c): Sample[] => [[{ worker: c.slot, quantile: '0.5' }, c.snapshot.loopDelayP50], [{ worker: c.slot, quantile: '0.99' }, c.snapshot.loopDelayP99]]));
  f.family('herd_worker_restarts_total', 'counter', 'Workers respawned in the slot after dying.',
    [...facts.restarts].sort(([a], [b]) => a - b).map(([slot, n]) => [{ worker: String(slot) }, n]));
  f.family('herd_reloads_total', 'counter', 'Rolling reloads started.', [[{}, facts.reloads]]);
  if (facts.accessLog) {
    f.family('herd_access_log_records_total', 'counter', 'Access-log records the workers produced (written, or dropped below).', [[{}, total.accessLogRecords]]);
    f.family('herd_access_log_records_dropped_total', 'counter', 'Access-log records dropped because logd fell behind.', [[{}, total.accessLogDropped]]);
  }
  if (facts.handoffQueued !== null) {
    f.family('herd_handoff_queued_connections', 'gauge', 'Connections accepted by the supervisor that no worker has taken yet.', [[{}, facts.handoffQueued]]);
  }
  if (facts.listenOverflows !== null) {
    f.family('herd_listen_overflows_total', 'counter', "Times an accept queue was full (TcpExt ListenOverflows, this network namespace's, not herd's alone).",
      [[{}, facts.listenOverflows]]);
  }
  return f.text();
}
