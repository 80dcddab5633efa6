// Ctrl-C in the middle of a lab run: every process it started is gone, and the cells that finished
// are written, marked incomplete.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { processTree } from '../../src/lab/process_cpu.ts';
import type { LabResults } from '../../src/lab/results.ts';

/** Gone, or a zombie waiting for a reaper that is not ours. */
function gone(pid: number): boolean {
  try {
    return fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].startsWith('Z');
  } catch {
    return true;
  }
}

test('SIGINT stops every server and load process the lab started, and writes what it has', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-interrupt-'));
  const lab = new URL('../../src/cli/lab.ts', import.meta.url).href;
  const args = ['--models', 'serial', '--peers', 'cluster-rr', '--workers', '2', '--concurrency', '1', '--duration', '30', '--mode', 'close', '--out', out];
  const child = spawn(process.execPath, ['--input-type=module', '-e', `import { run } from ${JSON.stringify(lab)}; process.exitCode = await run(${JSON.stringify(args)});`], { stdio: 'ignore' });
  t.after(() => {
    child.kill('SIGKILL');
    fs.rmSync(out, { recursive: true, force: true });
  });
  // Wait until the serial server and its load are both running under the lab.
  const seen = new Set<number>();
  for (let i = 0; i < 200 && seen.size < 3; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    for (const pid of processTree(child.pid!)) if (pid !== child.pid) seen.add(pid);
  }
  assert.ok(seen.size >= 2, `the lab started a server and a load (saw ${seen.size} processes)`);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill('SIGINT');
  assert.equal(await exit, 130);
  for (const pid of seen) assert.ok(gone(pid), `process ${pid} was stopped`);
  const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as LabResults;
  assert.equal(results.complete, false);
  assert.match(fs.readFileSync(path.join(out, 'results.md'), 'utf8'), /interrupted/);
});
