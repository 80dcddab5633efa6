// The herd experiment's section of results.md and report.html: method, findings, one table per figure
// (a row per server, a column per worker count), the C demonstrations, threads against processes, and
// the crash runs. Built once here as plain tables; both reports render them.
import type { Finding } from '../results.ts';
import { DEMO_DESCRIPTIONS } from './demonstrations.ts';
import type { HerdCell, HerdExperiment, HerdLoad } from './herd_results.ts';
import { HERD_SERVER_DESCRIPTIONS } from './herd_servers.ts';

export interface HerdTable {
  title: string;
  headers: string[];
  rows: string[][];
}

interface HerdMetric {
  title: string;
  value: (c: HerdCell) => number | null;
  digits: number;
}

export const HERD_METRICS: HerdMetric[] = [
  { title: 'Scheduler wake-ups of the event loops per connection (perf: sched_wakeup)', value: (c) => c.schedWakeupsPerConnection, digits: 2 },
  { title: 'Accept wake-ups per connection (1 + wasted)', value: (c) => c.acceptWakeupsPerConnection, digits: 2 },
  { title: 'Wasted wake-ups per connection (EAGAIN accepts beyond the loop\'s last)', value: (c) => c.wastedWakeupsPerConnection, digits: 2 },
  { title: 'EAGAIN accepts per connection', value: (c) => c.eagainPerConnection, digits: 2 },
  { title: 'Context switches of the event loops per connection', value: (c) => c.switchesPerConnection, digits: 2 },
  { title: 'Server CPU µs per connection (untraced)', value: (c) => c.cpuMicrosPerConnection, digits: 0 },
  { title: 'Connect to first byte, p50 ms (untraced)', value: (c) => c.p50Ms, digits: 2 },
  { title: 'Connect to first byte, p99 ms (untraced)', value: (c) => c.p99Ms, digits: 2 },
  { title: 'Failed connections (untraced)', value: (c) => c.failed, digits: 0 },
];

export const LOAD_TITLES: Record<HerdLoad, string> = {
  sequential: 'one client, sequential connections',
  burst: 'bursts of simultaneous connects',
};

export function herdMetricTables(h: HerdExperiment): Array<{ metric: string; load: HerdLoad; table: HerdTable }> {
  const out: Array<{ metric: string; load: HerdLoad; table: HerdTable }> = [];
  for (const metric of HERD_METRICS) {
    for (const load of h.settings.loads) {
      const rows: string[][] = [];
      for (const server of h.settings.servers) {
        const values = h.settings.workers.map((n) => {
          const cell = h.cells.find((c) => c.server === server && c.workers === n && c.load === load);
          const v = cell ? metric.value(cell) : null;
          return v === null || !Number.isFinite(v) ? '—' : v.toFixed(metric.digits);
        });
        if (values.some((v) => v !== '—')) rows.push([server, ...values]);
      }
      if (rows.length > 0) out.push({ metric: metric.title, load, table: { title: `${metric.title}: ${LOAD_TITLES[load]}`, headers: ['server \\ workers', ...h.settings.workers.map(String)], rows } });
    }
  }
  return out;
}

export function demonstrationTable(h: HerdExperiment): HerdTable | null {
  if (h.demonstrations.length === 0) return null;
  return {
    title: "The seed's demonstrations (C, one connection)",
    headers: ['case', 'processes', 'returned from the wait', 'scheduled at all', 'accepted', 'EAGAIN'],
    rows: h.demonstrations.map((d) => [DEMO_DESCRIPTIONS[d.mode], String(d.processes), String(d.woke), String(d.roused), String(d.accepted), String(d.failedAccepts)]),
  };
}

export function threadsTable(h: HerdExperiment): HerdTable | null {
  if (h.threads.length === 0) return null;
  return {
    title: 'Threads against processes (herd bench, 20 clients, interleaved rounds)',
    headers: ['server', 'connections', 'requests/s', 'server CPU µs/request', 'RSS MiB (sum)', 'PSS MiB (sum)'],
    rows: h.threads.map((r) => [r.model, r.keepAlive ? 'keep-alive' : 'close', r.rps.toFixed(0), r.cpuMicrosPerRequest?.toFixed(1) ?? '—', r.rssMiB.toFixed(0), r.pssMiB?.toFixed(0) ?? '—']),
  };
}

export function crashTable(h: HerdExperiment): HerdTable | null {
  if (h.crashes.length === 0) return null;
  return {
    title: 'A crash in one loop (4 clients connecting one after another for 1.5 s after it, then 20 at once)',
    headers: ['server', 'crash', 'process survived', 'ok after', 'failed after', 'served of 20 later'],
    rows: h.crashes.map((c) => [c.model, c.crash, c.processSurvived ? 'yes' : 'no', String(c.okAfterCrash), String(c.failedAfterCrash), String(c.servedLater)]),
  };
}

function markdownTable(table: HerdTable): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(table.headers), line(table.headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...table.rows.map(line)].join('\n');
}

export const verdict = (f: Finding) => (f.agrees === null ? 'cannot tell' : f.agrees ? 'yes' : 'no');

export function describeSettings(h: HerdExperiment): string {
  const s = h.settings;
  return `workers ${s.workers.join(', ')}; loads: ${s.loads.map((l) => (l === 'sequential' ? `${s.sequentialConnections} sequential connections` : `${s.bursts} bursts of ${s.burstSize}`)).join(', ')}; tracer: ${h.tracer ?? 'none'}`;
}

export function renderHerdMarkdown(h: HerdExperiment): string[] {
  const out: string[] = ['## The thundering herd (`--experiment herd`)', '', `- ${describeSettings(h)}`, ''];
  out.push('| server | what |', '|---|---|');
  for (const server of h.settings.servers) out.push(`| ${server} | ${HERD_SERVER_DESCRIPTIONS[server]} |`);
  out.push('', '### Method, overhead and limits', '');
  for (const line of h.method) out.push(`- ${line}`);
  out.push('', "### The seed's claims against this run", '', '| the seed says | this run | agrees |', '|---|---|---|');
  for (const f of h.summary) out.push(`| ${f.seed} | ${f.thisRun} | ${verdict(f)} |`);
  out.push('');
  for (const { table } of herdMetricTables(h)) out.push(`### ${table.title}`, '', markdownTable(table), '');
  for (const table of [demonstrationTable(h), threadsTable(h), crashTable(h)]) {
    if (table) out.push(`### ${table.title}`, '', markdownTable(table), '');
  }
  if (h.notes.length > 0) {
    out.push('### Notes', '');
    for (const n of h.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out;
}
