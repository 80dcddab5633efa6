// report.html: one self-contained file (no network): the run's data as JSON, Chart.js's UMD build
// inlined, charts of throughput, CPU per request, context switches and fairness against concurrency,
// then the summary and every table of results.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { crashTable, demonstrationTable, describeSettings, herdMetricTables, threadsTable, verdict, type HerdTable } from './herd/herd_report.ts';
import type { HerdExperiment } from './herd/herd_results.ts';
import type { LabResults } from './results.ts';
import { allTables, MODE_TITLES, type Table } from './tables.ts';

/** Chart.js's UMD build: beside this module in the package (`npm run build` puts it there, so chart.js
 * is no dependency of an installed herd), from node_modules in the checkout. */
function chartJsSource(): string {
  const vendored = new URL('./chart.umd.js', import.meta.url);
  if (fs.existsSync(vendored)) return fs.readFileSync(vendored, 'utf8');
  const entry = fileURLToPath(import.meta.resolve('chart.js'));
  return fs.readFileSync(path.join(path.dirname(entry), 'chart.umd.js'), 'utf8');
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON that can sit inside a <script> element: no '<' can close it early. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c');
}

function htmlTable(table: Pick<Table, 'headers' | 'rows'>): string {
  const head = `<tr>${table.headers.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const rows = table.rows.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${escapeHtml(c)}</th>` : `<td>${escapeHtml(c)}</td>`)).join('')}</tr>`);
  return `<table>${head}${rows.join('')}</table>`;
}

/** Runs in the page: one chart per metric and load mode, a line per model. */
const RENDER = `
const data = JSON.parse(document.getElementById('lab-data').textContent);
const charts = [
  { key: 'pagesPerMin', title: 'Throughput (pages/min)', value: (c) => c.pagesPerMin },
  { key: 'cpu', title: 'Server CPU µs per request', value: (c) => c.cpuMicrosPerRequest },
  { key: 'switches', title: 'Context switches per request (voluntary + involuntary)', value: (c) =>
      c.voluntarySwitchesPerRequest === null ? null : c.voluntarySwitchesPerRequest + c.involuntarySwitchesPerRequest },
  { key: 'fairness', title: "Busiest worker's share of the load (%)", pools: true, value: (c) => c.workerShare ? c.workerShare.maxShare * 100 : null },
  { key: 'overflows', title: 'Listen-queue overflows', value: (c) => c.listenOverflows },
];
const container = document.getElementById('charts');
data.models.forEach((m, i) => { m.color = 'hsl(' + Math.round((i * 360) / data.models.length) + ', 65%, 45%)'; });
for (const mode of data.settings.modes) {
  for (const chart of charts) {
    const datasets = [];
    for (const model of data.models) {
      if (chart.pools && model.workers < 2) continue;
      const points = data.settings.concurrency.map((c) => {
        const cell = data.cells.find((x) => x.model === model.id && x.mode === mode && x.concurrency === c);
        return cell ? chart.value(cell) : null;
      });
      if (points.every((p) => p === null)) continue;
      datasets.push({ label: model.id, data: points, borderColor: model.color, backgroundColor: model.color, spanGaps: true, tension: 0.2 });
    }
    if (datasets.length === 0) continue;
    const box = document.createElement('div');
    box.className = 'chart';
    const canvas = document.createElement('canvas');
    canvas.id = 'chart-' + chart.key + '-' + mode;
    box.appendChild(canvas);
    container.appendChild(box);
    new Chart(canvas, {
      type: 'line',
      data: { labels: data.settings.concurrency.map(String), datasets },
      options: {
        animation: false,
        responsive: true,
        plugins: { title: { display: true, text: chart.title + ' — ' + mode } },
        scales: { x: { title: { display: true, text: 'concurrent clients' } }, y: { beginAtZero: true } },
      },
    });
  }
}
`;

/** Runs in the page: the herd experiment's charts, a line per server against the worker count. */
const RENDER_HERD = `
const herd = JSON.parse(document.getElementById('lab-data').textContent).herd;
if (herd) {
  const box = document.getElementById('herd-charts');
  const figures = [
    { key: 'schedWakeupsPerConnection', title: 'Wake-ups per connection (sched_wakeup of the event loops)' },
    { key: 'acceptWakeupsPerConnection', title: 'Accept wake-ups per connection (1 + wasted EAGAIN)' },
    { key: 'p99Ms', title: 'Connect to first byte, p99 ms' },
  ];
  for (const load of herd.settings.loads) {
    for (const figure of figures) {
      const datasets = herd.settings.servers.map((server, i) => {
        const color = 'hsl(' + Math.round((i * 360) / herd.settings.servers.length) + ', 65%, 45%)';
        const data = herd.settings.workers.map((n) => {
          const cell = herd.cells.find((c) => c.server === server && c.workers === n && c.load === load);
          return cell ? cell[figure.key] : null;
        });
        return { label: server, data, borderColor: color, backgroundColor: color, spanGaps: true };
      }).filter((d) => d.data.some((v) => v !== null));
      if (datasets.length === 0) continue;
      const div = document.createElement('div');
      div.className = 'chart';
      const canvas = document.createElement('canvas');
      canvas.id = 'herd-chart-' + figure.key + '-' + load;
      div.appendChild(canvas);
      box.appendChild(div);
      new Chart(canvas, {
        type: 'line',
        data: { labels: herd.settings.workers.map(String), datasets },
        options: { animation: false, plugins: { title: { display: true, text: figure.title + ' — ' + load } },
          scales: { x: { title: { display: true, text: 'workers' } }, y: { beginAtZero: true } } },
      });
    }
  }
}
`;

function herdTableHtml(table: HerdTable): string {
  return `<h3>${escapeHtml(table.title)}</h3>${htmlTable({ headers: table.headers, rows: table.rows })}`;
}

function herdSection(h: HerdExperiment): string {
  const findings = h.summary
    .map((f) => `<tr><td>${escapeHtml(f.seed)}</td><td>${escapeHtml(f.thisRun)}</td><td class="verdict">${verdict(f)}</td></tr>`)
    .join('');
  const tables = [...herdMetricTables(h).map((t) => t.table), demonstrationTable(h), threadsTable(h), crashTable(h)]
    .filter((t): t is HerdTable => t !== null)
    .map(herdTableHtml)
    .join('\n');
  const notes = h.notes.length > 0 ? `<h3>Notes</h3><ul>${h.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<h2 id="herd">The thundering herd</h2>
<p>${escapeHtml(describeSettings(h))}</p>
<h3>Method, overhead and limits</h3><ul>${h.method.map((m) => `<li>${escapeHtml(m)}</li>`).join('')}</ul>
<h3>The seed's claims against this run</h3>
<table class="summary"><tr><th>the seed says</th><th>this run</th><th>agrees</th></tr>${findings}</table>
<div id="herd-charts"></div>
${tables}
${notes}`;
}

export function renderHtml(results: LabResults): string {
  const m = results.machine;
  const summaryRows = results.summary
    .map((f) => `<tr><td>${escapeHtml(f.seed)}</td><td>${escapeHtml(f.thisRun)}</td><td class="verdict">${f.agrees === null ? 'cannot tell' : f.agrees ? 'yes' : 'no'}</td></tr>`)
    .join('');
  const tables = allTables(results)
    .map((t) => `<h3>${escapeHtml(t.title)}: ${escapeHtml(MODE_TITLES[t.mode])}</h3>${htmlTable(t)}`)
    .join('\n');
  const notes = results.notes.length > 0 ? `<h2>Notes</h2><ul>${results.notes.map((n) => `<li>${escapeHtml(n)}</li>`).join('')}</ul>` : '';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>herd lab — ${escapeHtml(results.startedAt)}</title>
<style>
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; }
th, td { border: 1px solid #ccc; padding: 3px 8px; }
td { text-align: right; font-variant-numeric: tabular-nums; }
.summary td { text-align: left; vertical-align: top; max-width: 40em; }
#charts, #herd-charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1em; }
.chart { border: 1px solid #eee; padding: 0.5em; }
</style>
</head>
<body>
<h1>herd lab</h1>
<p><code>${escapeHtml(results.command)}</code><br>
${escapeHtml(results.startedAt)} to ${escapeHtml(results.finishedAt)}${results.complete ? '' : ' (interrupted)'} ·
${m.cores} cores (${escapeHtml(m.cpuModel)}), ${m.memoryGiB} GiB, ${escapeHtml(m.kernel)}, Node ${escapeHtml(m.node)} ·
${results.settings.durationSec} s per cell</p>
${results.models.length === 0 ? '' : `<h2>Summary: the seed's conclusions against this run</h2>
<table class="summary"><tr><th>the seed concluded</th><th>this run</th><th>agrees</th></tr>${summaryRows}</table>
<h2>Charts</h2>
<div id="charts"></div>
<h2>Tables</h2>
${tables}`}
${results.herd ? herdSection(results.herd) : ''}
${notes}
<script type="application/json" id="lab-data">${scriptJson(results)}</script>
<script>
${chartJsSource()}
</script>
<script>
${RENDER}
${RENDER_HERD}
</script>
</body>
</html>
`;
}
