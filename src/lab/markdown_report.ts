// results.md: the seed's tables (pages/min, a row per model, a column per concurrency), then one
// table per probe, then what the run says about the seed's conclusions.
import { renderHerdMarkdown } from './herd/herd_report.ts';
import { KIND_DESCRIPTIONS } from './models.ts';
import type { LabResults } from './results.ts';
import { allTables, MODE_TITLES, type Table } from './tables.ts';

function markdownTable(table: Table): string {
  const line = (cells: string[]) => `| ${cells.join(' | ')} |`;
  return [line(table.headers), line(table.headers.map((_, i) => (i === 0 ? '---' : '---:'))), ...table.rows.map(line)].join('\n');
}

function describeModel(model: LabResults['models'][number]): string {
  const parts = [KIND_DESCRIPTIONS[model.kind]];
  if (model.dispatch) parts.push(`dispatch ${model.dispatch}`);
  if (model.engine) parts.push(`engine ${model.engine}`);
  if (model.kind !== 'serial' && model.kind !== 'single') parts.push(`${model.workers} worker${model.workers === 1 ? '' : 's'}`);
  return parts.join(', ');
}

export function renderMarkdown(results: LabResults): string {
  const m = results.machine;
  const s = results.settings;
  const out: string[] = [];
  out.push('# herd lab results', '');
  out.push(`- Command: \`${results.command}\``);
  out.push(`- Date: ${results.startedAt} to ${results.finishedAt}${results.complete ? '' : ' (interrupted: only the cells that finished)'}`);
  out.push(`- Machine: ${m.cores} cores (${m.cpuModel}), ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, somaxconn ${m.somaxconn ?? '?'}`);
  if (results.models.length === 0) {
    // --experiment herd: the herd section is the whole report.
    out.push('');
    if (results.herd) out.push(...renderHerdMarkdown(results.herd));
    return out.join('\n');
  }
  out.push(`- Each cell: \`herd bench\` for ${s.durationSec} s on http://${s.host}:${s.port}/ (load generator and server share the machine's cores); server CPU is utime+stime of its whole process tree from /proc.`);
  out.push('');
  out.push('| model | what |', '|---|---|');
  for (const model of results.models) out.push(`| ${model.id} | ${describeModel(model)} |`);
  out.push('');
  out.push('## Summary: the seed\'s conclusions against this run', '');
  out.push('| the seed concluded | this run | agrees |', '|---|---|---|');
  for (const f of results.summary) out.push(`| ${f.seed} | ${f.thisRun} | ${f.agrees === null ? 'cannot tell' : f.agrees ? 'yes' : 'no'} |`);
  out.push('');
  let metric = '';
  for (const table of allTables(results)) {
    if (table.metric !== metric) {
      metric = table.metric;
      out.push(`## ${table.title}`, '');
      if (table.note) out.push(table.note, '');
    }
    out.push(`### ${table.title}: ${MODE_TITLES[table.mode]}`, '', markdownTable(table), '');
  }
  if (results.herd) out.push(...renderHerdMarkdown(results.herd));
  if (results.notes.length > 0) {
    out.push('## Notes', '');
    for (const note of results.notes) out.push(`- ${note}`);
    out.push('');
  }
  return out.join('\n');
}
