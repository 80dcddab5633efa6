// The tables of a lab run, shaped like the seed's (a row per model, a column per concurrency), built
// once here and rendered by both results.md and report.html.
import type { CellResult, LabResults, LoadMode } from './results.ts';
import { findCell } from './results.ts';

export interface Metric {
  key: string;
  title: string;
  value: (cell: CellResult) => number | null;
  format: (value: number) => string;
  /** Only models with more than one worker have it. */
  poolsOnly?: boolean;
  /** Only runs with --trace have it. */
  traced?: boolean;
  /** How to read it, printed under its heading. */
  note?: string;
}

const grouped = (n: number) => Math.round(n).toLocaleString('en-US');
const fixed = (digits: number) => (n: number) => n.toFixed(digits);

export const METRICS: Metric[] = [
  { key: 'pagesPerMin', title: 'Pages/min', value: (c) => c.pagesPerMin, format: grouped },
  { key: 'rps', title: 'Requests/s', value: (c) => c.rps, format: grouped },
  { key: 'failed', title: 'Failed requests', value: (c) => c.failed, format: grouped },
  { key: 'p99Ms', title: 'p99 latency (ms)', value: (c) => c.p99Ms, format: fixed(1) },
  { key: 'cpuMicrosPerRequest', title: 'Server CPU µs per request', value: (c) => c.cpuMicrosPerRequest, format: fixed(1) },
  { key: 'voluntarySwitchesPerRequest', title: 'Voluntary context switches per request', value: (c) => c.voluntarySwitchesPerRequest, format: fixed(2) },
  { key: 'involuntarySwitchesPerRequest', title: 'Involuntary context switches per request', value: (c) => c.involuntarySwitchesPerRequest, format: fixed(3) },
  {
    key: 'listenOverflows',
    title: 'Listen-queue overflows (TcpExt ListenOverflows, delta)',
    value: (c) => c.listenOverflows,
    format: grouped,
    note: 'Counted for the whole machine over the cell, so anything else overflowing a queue meanwhile shows too.',
  },
  { key: 'acceptQueueMax', title: 'Accept-queue depth, deepest sample', value: (c) => c.acceptQueue.max, format: grouped },
  {
    key: 'busiestWorkerShare',
    title: "Busiest worker's share of the load (1/N is fair)",
    value: (c) => c.workerShare?.maxShare ?? null,
    format: (n) => `${(n * 100).toFixed(0)}%`,
    poolsOnly: true,
    note: "herd pools: each worker's requests, from herd's control socket; node cluster and nginx: each worker's CPU time.",
  },
  {
    key: 'failedAcceptsPerConnection',
    title: 'Failed (EAGAIN) accepts per connection — the thundering herd (strace)',
    value: (c) => c.trace?.failedAcceptsPerConnection ?? null,
    format: fixed(2),
    traced: true,
  },
  { key: 'acceptCallsPerConnection', title: 'accept() calls per connection (strace)', value: (c) => c.trace?.acceptCallsPerConnection ?? null, format: fixed(2), traced: true },
];

export interface Table {
  metric: string;
  title: string;
  note: string | undefined;
  mode: LoadMode;
  headers: string[];
  rows: string[][];
}

export const MODE_TITLES: Record<LoadMode, string> = {
  close: 'a new connection per request (webbench)',
  'keep-alive': 'keep-alive connections',
};

/** One table: a row per model that has cells in this mode, a column per concurrency; '—' where no cell. */
export function metricTable(results: LabResults, metric: Metric, mode: LoadMode): Table | null {
  if (metric.traced && !results.settings.trace) return null;
  const rows: string[][] = [];
  for (const model of results.models) {
    if (metric.poolsOnly && model.workers < 2) continue;
    const cells = results.settings.concurrency.map((c) => findCell(results, model.id, mode, c));
    if (cells.every((c) => c === undefined)) continue;
    rows.push([model.id, ...cells.map((c) => {
      const v = c ? metric.value(c) : null;
      return v === null || !Number.isFinite(v) ? '—' : metric.format(v);
    })]);
  }
  if (rows.length === 0) return null;
  return { metric: metric.key, title: metric.title, note: metric.note, mode, headers: ['model \\ clients', ...results.settings.concurrency.map(String)], rows };
}

export function allTables(results: LabResults): Table[] {
  const tables: Table[] = [];
  for (const metric of METRICS) {
    for (const mode of results.settings.modes) {
      const table = metricTable(results, metric, mode);
      if (table) tables.push(table);
    }
  }
  return tables;
}
