// One `herd lab` run from start to files: the matrix, the machine, the summary, and the three outputs.
import fs from 'node:fs';
import path from 'node:path';
import { machineInfo } from './machine.ts';
import { renderHtml } from './html_report.ts';
import { renderMarkdown } from './markdown_report.ts';
import { runMatrix } from './matrix.ts';
import type { ServerModel } from './models.ts';
import type { LabResults, LabSettings } from './results.ts';
import { summarize } from './summary.ts';

export interface LabRequest {
  models: ServerModel[];
  settings: LabSettings;
  /** Notes decided before the run (a peer skipped because it is not installed). */
  notes: string[];
  outDir: string;
  command: string;
}

export const OUTPUT_FILES = ['results.json', 'results.md', 'report.html'] as const;

export async function runLab(request: LabRequest, signal: AbortSignal): Promise<LabResults> {
  const startedAt = new Date().toISOString();
  const run = await runMatrix(request.models, request.settings, signal);
  const results: LabResults = {
    tool: 'herd lab',
    command: request.command,
    startedAt,
    finishedAt: new Date().toISOString(),
    complete: run.complete,
    machine: machineInfo(),
    settings: request.settings,
    models: request.models,
    cells: run.cells,
    notes: [...request.notes, ...run.notes],
    summary: [],
  };
  results.summary = summarize(results);
  writeResults(request.outDir, results);
  return results;
}

export function writeResults(dir: string, results: LabResults): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'results.md'), renderMarkdown(results));
  fs.writeFileSync(path.join(dir, 'report.html'), renderHtml(results));
}
