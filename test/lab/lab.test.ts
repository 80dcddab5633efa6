// herd lab end to end: a tiny matrix (two models, two concurrency levels, one second each) with the
// real herd bench, producing results.json, results.md and report.html that agree with each other.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/cli/lab.ts';
import { HerdError } from '../../src/errors.ts';
import { childPids } from '../../src/lab/process_cpu.ts';
import type { LabResults } from '../../src/lab/results.ts';

/** The markdown table under a heading, as rows of cells. */
function markdownTable(md: string, heading: string): string[][] {
  const start = md.indexOf(`${heading}\n`);
  assert.ok(start >= 0, `results.md has '${heading}'`);
  const lines = md.slice(start).split('\n').slice(2);
  const rows: string[][] = [];
  for (const line of lines) {
    if (!line.startsWith('|')) break;
    rows.push(line.split('|').slice(1, -1).map((c) => c.trim()));
  }
  return rows;
}

test('a tiny matrix runs end to end and writes three consistent files', async (t) => {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-test-'));
  t.after(() => fs.rmSync(out, { recursive: true, force: true }));
  const code = await run(['--models', 'serial,single', '--engines', 'fast', '--peers', 'none', '--concurrency', '1,4', '--duration', '1', '--mode', 'close', '--out', out]);
  assert.equal(code, 0);
  assert.deepEqual(childPids(process.pid), [], 'every server and load process is gone');

  const results = JSON.parse(fs.readFileSync(path.join(out, 'results.json'), 'utf8')) as LabResults;
  assert.deepEqual(results.models.map((m) => m.id), ['serial', 'single-fast']);
  assert.equal(results.cells.length, 4, `notes: ${results.notes.join('; ')}`);
  assert.equal(results.complete, true);
  assert.equal(results.machine.node, process.version);
  for (const cell of results.cells) {
    assert.ok(cell.succeeded > 0 && cell.pagesPerMin > 0, `${cell.model} c=${cell.concurrency} served requests`);
    assert.ok(cell.cpuMicrosPerRequest! > 0, 'the server tree used CPU');
    assert.ok(cell.voluntarySwitchesPerRequest !== null);
    assert.ok(cell.acceptQueue.samples >= 2);
    assert.equal(cell.workerShare, null, 'one-process models have no worker share');
  }
  assert.equal(results.summary.length, 5);
  assert.notEqual(results.summary[0].agrees, null, 'serial against single is decided from this run');

  // results.md: the seed's table, a row per model, a column per concurrency, pages/min in the cells.
  const md = fs.readFileSync(path.join(out, 'results.md'), 'utf8');
  const table = markdownTable(md, '### Pages/min: a new connection per request (webbench)');
  assert.deepEqual(table[0], ['model \\ clients', '1', '4']);
  for (const cell of results.cells) {
    const row = table.find((r) => r[0] === cell.model)!;
    const column = results.settings.concurrency.indexOf(cell.concurrency) + 1;
    assert.equal(row[column], Math.round(cell.pagesPerMin).toLocaleString('en-US'));
  }
  for (const f of results.summary) assert.ok(md.includes(f.thisRun));

  // report.html: self-contained, carries the same data, names no address outside the file.
  const html = fs.readFileSync(path.join(out, 'report.html'), 'utf8');
  const data = /<script type="application\/json" id="lab-data">([^<]*)<\/script>/.exec(html);
  assert.ok(data, 'the data is embedded');
  assert.deepEqual(JSON.parse(data[1]), results);
  assert.match(html, /Chart\.js v4/, 'Chart.js is inlined');
  assert.doesNotMatch(html, /<script[^>]+src=|<link[^>]+href=/i);
  // The only URLs are in the license banners of Chart.js and its color library (/*! ... */).
  const withoutBanners = html.replace(/\/\*![\s\S]*?\*\//g, '');
  assert.doesNotMatch(withoutBanners, /https?:\/\//);
  for (const f of results.summary) assert.ok(html.includes(f.thisRun.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')));
});

test('a port already in use is refused with one clear line, before anything starts', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
  t.after(() => blocker.close());
  const port = (blocker.address() as net.AddressInfo).port;
  const out = path.join(os.tmpdir(), `herd-lab-refused-${process.pid}`);
  await assert.rejects(
    run(['--models', 'serial', '--peers', 'none', '--concurrency', '1', '--duration', '1', '--port', String(port), '--out', out]),
    (err: unknown) => err instanceof HerdError && new RegExp(`port ${port} is already in use`).test(err.message) && !err.message.includes('\n'),
  );
  assert.equal(fs.existsSync(out), false);
  assert.deepEqual(childPids(process.pid), []);
});

test('bad flags are usage errors', async () => {
  await assert.rejects(run(['--models', 'threads']), /--models must be one of serial, single, pool/);
  await assert.rejects(run(['--concurrency', '0']), /--concurrency must be a whole number from 1/);
  await assert.rejects(run(['--mode', 'sometimes']), /--mode must be one of close, keep-alive, both/);
  await assert.rejects(run(['--bogus']), /unknown option '--bogus'/);
  await assert.rejects(run(['--experiment', 'herds']), /--experiment must be one of matrix, herd, all/);
  await assert.rejects(run(['--experiment', 'herd', '--servers', 'apache']), /--servers must be one of herd-shared/);
  await assert.rejects(run(['--experiment', 'herd', '--loads', 'trickle']), /--loads must be one of sequential, burst/);
  await assert.rejects(run(['--experiment', 'herd', '--connections', '0']), /--connections must be a whole number from 1/);
});
