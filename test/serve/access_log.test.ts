// herd serve with --access-log: every request is one line, through logd, across a rename + USR1
// (logrotate's way) and on both engines.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fixture, startHerd, tempDir } from '../support/herd_process.ts';
import { request, sleep, waitFor } from '../support/http_client.ts';

const COMBINED = /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} [+-]\d{4}\] "GET \/n\/(\d+) HTTP\/1\.1" (\d{3}) (\d+) "-" "-"$/;

async function sendNumbered(url: string, from: number, to: number, concurrency = 8): Promise<void> {
  let next = from;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < to) {
      const n = next++;
      assert.equal((await request(url, `/n/${n}`)).status, 200);
    }
  }));
}

function lines(file: string): string[] {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l !== '') : [];
}

for (const engine of ['fast', 'node'] as const) {
  test(`${engine} engine: N requests give exactly N combined lines, across a rename + USR1`, async (t) => {
    const dir = tempDir(t);
    const log = path.join(dir, 'access.log');
    const herd = await startHerd(t, ['--engine', engine, '--workers', '2', '--access-log', log]);
    await sendNumbered(herd.url, 0, 150);
    // logrotate: rename, then signal; lines keep going to the renamed file until logd reopens.
    await waitFor('the first lines to be written', () => lines(log).length === 150);
    fs.renameSync(log, `${log}.1`);
    herd.child.kill('SIGUSR1');
    await waitFor('logd to reopen the log', () => fs.existsSync(log));
    await sendNumbered(herd.url, 150, 300);
    herd.child.kill('SIGTERM');
    assert.equal(await herd.exited, 0);
    const all = [...lines(`${log}.1`), ...lines(log)];
    assert.equal(all.length, 300, 'one line per request, none lost or doubled across the reopen');
    const seen = new Set<number>();
    for (const line of all) {
      const m = COMBINED.exec(line);
      assert.ok(m, `a combined line: ${line}`);
      assert.equal(m[2], '200');
      assert.equal(m[3], '13', "body bytes of 'Hello, World!'");
      seen.add(Number(m[1]));
    }
    assert.equal(seen.size, 300);
    assert.ok(lines(log).length >= 150, 'the requests after the reopen went to the new file');
  });
}

test('json format and herd reopen', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'access.json');
  const herd = await startHerd(t, [fixture('faulty.js'), '--workers', '1', '--access-log', log, '--access-log-format', 'json']);
  assert.equal((await request(herd.url, '/throw')).status, 500);
  await request(herd.url, '/');
  await waitFor('two lines', () => lines(log).length === 2);
  fs.renameSync(log, `${log}.old`);
  const r = await herd.command('reopen');
  assert.equal(r.code, 0);
  await waitFor('the reopen', () => fs.existsSync(log));
  const [first, second] = lines(`${log}.old`).map((l) => JSON.parse(l));
  assert.equal(first.status, 500);
  assert.equal(first.url, '/throw');
  assert.equal(second.status, 200);
});

test('--error-log FILE gets the supervisor events: workers started, stop', async (t) => {
  const dir = tempDir(t);
  const errorLog = path.join(dir, 'error.log');
  const herd = await startHerd(t, ['--workers', '2', '--error-log', errorLog]);
  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0);
  const text = fs.readFileSync(errorLog, 'utf8');
  assert.match(text, /herd\[\d+\]: worker 1 \(pid \d+\) started/);
  assert.match(text, /herd\[\d+\]: worker 2 \(pid \d+\) started/);
  assert.match(text, /stop: draining 2 workers/);
});

test('logd stopped (SIGSTOP): requests are still answered, drops are exact, writing resumes after SIGCONT', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'access.log');
  const herd = await startHerd(t, ['--workers', '2', '--access-log', log, '--log-buffer', '4096']);
  const before = JSON.parse((await herd.command('status', '--json')).stdout);
  const logd = before.logd.pid as number;
  process.kill(logd, 'SIGSTOP');
  t.after(() => {
    try {
      process.kill(logd, 'SIGCONT');
    } catch {
      // gone already
    }
  });
  // Workers must not wait for logd: every request is answered within a bound far below a stall.
  let next = 0;
  const total = 600;
  await Promise.all(Array.from({ length: 6 }, async () => {
    while (next < total) {
      next++;
      assert.equal((await request(herd.url, '/', 3_000)).status, 200);
    }
  }));
  const droppedNow = async () => {
    const s = JSON.parse((await herd.command('status', '--json')).stdout);
    return s.workers.reduce((sum: number, w: { logDropped: number }) => sum + w.logDropped, 0) as number;
  };
  assert.ok((await droppedNow()) > 0, 'a 4 KiB buffer cannot hold 600 records');
  // Writing resumes: what the buffers held reaches the file, then a new request is logged too.
  const written = lines(log).length;
  process.kill(logd, 'SIGCONT');
  await waitFor('logd to write again', () => lines(log).length > written);
  await sleep(200);
  const afterResume = lines(log).length;
  await request(herd.url, '/');
  await waitFor('the request after SIGCONT to be logged', () => lines(log).length >= afterResume + 1);
  const dropped = await droppedNow();
  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0);
  assert.equal(lines(log).length, total + 1 - dropped, 'served = written + dropped');
});
