// What `herd bench --vs` prints: the plan, a line per slice as it finishes, the table of medians
// and ratios, and the verdict. Plain functions from data to text.
import { FIGURES } from './comparison.ts';
import type { ComparisonPlan, ComparisonResult, Figure, Slice } from './comparison.ts';
import type { ServerUsage } from './server_usage.ts';

const LABELS: Record<Figure, string> = {
  rps: 'requests/s',
  latencyP50Ms: 'latency p50 (ms)',
  latencyP99Ms: 'latency p99 (ms)',
  serverCpuMicrosPerRequest: 'server CPU µs/request',
  serverRssBytes: 'server RSS (MiB)',
};

function scaled(figure: Figure, value: number): string {
  if (!Number.isFinite(value)) return '-';
  if (figure === 'serverRssBytes') return (value / 1048576).toFixed(1);
  if (figure === 'rps') return value.toFixed(0);
  return value.toFixed(2);
}

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

export function serverText(server: ServerUsage): string {
  const perRequest = Number.isFinite(server.cpuMicrosPerRequest) ? server.cpuMicrosPerRequest.toFixed(1) : '-';
  return `${perRequest} µs CPU/request, RSS ${(server.rssBytes / 1048576).toFixed(1)} MiB (${server.processes} process${server.processes === 1 ? '' : 'es'})`;
}

export function comparisonHeader(plan: ComparisonPlan): string {
  const run = plan.a.run;
  const length = run.requests > 0 ? `${run.requests} requests` : `${run.durationSec} s`;
  const mode = run.keepAlive ? `keep-alive${run.pipeline > 1 ? `, pipeline ${run.pipeline}` : ''}` : 'new connection per request';
  return (
    `A: ${plan.a.run.url}${plan.a.serverPids.length ? ` (server pid ${plan.a.serverPids.join(',')})` : ''}\n` +
    `B: ${plan.b.run.url}${plan.b.serverPids.length ? ` (server pid ${plan.b.serverPids.join(',')})` : ''}\n` +
    `${plan.slices} slices of ${length} per target, in turn A B B A …; ${run.connections} connection${run.connections === 1 ? '' : 's'}, ` +
    `${run.threads} thread${run.threads === 1 ? '' : 's'}, HTTP/${run.http} ${mode}` +
    `${plan.warmupSec > 0 ? `; ${plan.warmupSec} s warm-up each` : ''}\n\n`
  );
}

export function sliceLine(slice: Slice, index: number): string {
  const r = slice.result;
  const failed = r.requests.failed > 0 ? `, ${r.requests.failed} failed` : '';
  return `  slice ${pad(String(index + 1), 3, true)} ${slice.target}  ${pad(r.rps.toFixed(0), 8, true)} requests/s, p99 ${r.latencyMs.p99.toFixed(2)} ms${failed}` +
    `${slice.server ? `, server ${serverText(slice.server)}` : ''}\n`;
}

export function comparisonSummary(result: ComparisonResult): string {
  const rows: string[][] = [['', 'A (median)', 'B (median)', 'B/A', 'rounds min–max', '95 % interval']];
  for (const figure of FIGURES) {
    const c = result.figures[figure];
    if (!Number.isFinite(c.a) && !Number.isFinite(c.b)) continue; // not measured (no --server-pid)
    const spread = (x: number, y: number): string => (Number.isFinite(x) ? `${x.toFixed(2)}–${y.toFixed(2)}` : '-');
    rows.push([LABELS[figure], scaled(figure, c.a), scaled(figure, c.b), Number.isFinite(c.ratio) ? `${c.ratio.toFixed(3)}x` : '-', spread(c.min, c.max), spread(c.low, c.high)]);
  }
  const failed = (label: 'A' | 'B'): number => result.slices.filter((s) => s.target === label).reduce((n, s) => n + s.result.requests.failed, 0);
  rows.push(['failed requests (all slices)', String(failed('A')), String(failed('B')), '', '', '']);
  const widths = rows[0].map((_, col) => Math.max(...rows.map((row) => row[col].length)));
  const lines = rows.map((row) => '  ' + row.map((cell, col) => pad(cell, widths[col], col > 0)).join('  ').trimEnd());
  return `\n${lines.join('\n')}\n\n${result.verdict}\n`;
}
