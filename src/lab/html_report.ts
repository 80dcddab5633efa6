// report.html: one self-contained file (no network): the run's data as JSON, Chart.js's UMD build
// inlined, charts of throughput, CPU per request, context switches and fairness against concurrency,
// then the summary and every table of results.md.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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

function htmlTable(table: Table): string {
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
#charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 1em; }
.chart { border: 1px solid #eee; padding: 0.5em; }
</style>
</head>
<body>
<h1>herd lab</h1>
<p><code>${escapeHtml(results.command)}</code><br>
${escapeHtml(results.startedAt)} to ${escapeHtml(results.finishedAt)}${results.complete ? '' : ' (interrupted)'} ·
${m.cores} cores (${escapeHtml(m.cpuModel)}), ${m.memoryGiB} GiB, ${escapeHtml(m.kernel)}, Node ${escapeHtml(m.node)} ·
${results.settings.durationSec} s per cell</p>
<h2>Summary: the seed's conclusions against this run</h2>
<table class="summary"><tr><th>the seed concluded</th><th>this run</th><th>agrees</th></tr>${summaryRows}</table>
<h2>Charts</h2>
<div id="charts"></div>
<h2>Tables</h2>
${tables}
${notes}
<script type="application/json" id="lab-data">${scriptJson(results)}</script>
<script>
${chartJsSource()}
</script>
<script>
${RENDER}
</script>
</body>
</html>
`;
}
