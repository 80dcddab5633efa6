// One `herd lab` run from start to files: the matrix, the machine, the summary, and the three outputs.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { herdPlannedSeconds, herdStepCount, runHerdExperiment } from './herd/experiment.ts';
import type { HerdExperiment, HerdSettings } from './herd/herd_results.ts';
import { Progress } from './progress.ts';
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
  /** Run the herd experiment too (after the matrix, if there is one). */
  herd?: HerdSettings;
}

export const OUTPUT_FILES = ['results.json', 'results.md', 'report.html'] as const;

export async function runLab(request: LabRequest, signal: AbortSignal): Promise<LabResults> {
  const startedAt = new Date().toISOString();
  const run = request.models.length > 0 ? await runMatrix(request.models, request.settings, signal) : { cells: [], notes: [], complete: true };
  let herd: HerdExperiment | undefined;
  if (request.herd && !signal.aborted) {
    const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-herd-'));
    const h = request.herd;
    const progress = new Progress(herdStepCount(h), herdPlannedSeconds(h));
    try {
      herd = await runHerdExperiment(h, { host: request.settings.host, port: request.settings.port, workDir }, signal, progress);
    } finally {
      progress.end();
      fs.rmSync(workDir, { recursive: true, force: true });
    }
  }
  const results: LabResults = {
    tool: 'herd lab',
    command: request.command,
    startedAt,
    finishedAt: new Date().toISOString(),
    complete: run.complete && !signal.aborted,
    machine: machineInfo(),
    settings: request.settings,
    models: request.models,
    cells: run.cells,
    notes: [...request.notes, ...run.notes],
    summary: [],
  };
  if (herd) results.herd = herd;
  results.summary = request.models.length > 0 ? summarize(results) : [];
  writeResults(request.outDir, results);
  return results;
}

export function writeResults(dir: string, results: LabResults): void {
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(path.join(dir, 'results.md'), renderMarkdown(results));
  fs.writeFileSync(path.join(dir, 'report.html'), renderHtml(results));
}
