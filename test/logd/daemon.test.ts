// logd with real processes: the daemon forked by LogDaemon (as the supervisor does) and writer
// processes that each hold a LogClient, as workers do.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import { LogDaemon } from '../../src/logd/supervisor_side.ts';
import { HerdError } from '../../src/errors.ts';
import { ROTATE, encodeRotateCount } from '../../src/logd/protocol.ts';
import { tempDir } from '../support/herd_process.ts';
import { checkRecords, logLines, startWriter, until, type Writer } from './logd_harness.ts';

async function startDaemon(t: TestContext, dir: string): Promise<LogDaemon> {
  const daemon = await LogDaemon.start({
    accessLog: path.join(dir, 'access.log'),
    errorLog: path.join(dir, 'error.log'),
    socketPath: path.join(dir, 'logd.sock'),
  });
  t.after(async () => {
    const pid = daemon.pid;
    await daemon.stop();
    if (pid) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone, as it should be
      }
    }
  });
  return daemon;
}

/** Waits for every writer to finish; returns, per writer id, the records it dropped. */
async function allDone(writers: Writer[]): Promise<Map<number, number>> {
  const dropped = await Promise.all(writers.map((w) => w.waitFor('done')));
  return new Map(dropped.map((d, id) => [id, d]));
}

function written(dropped: Map<number, number>, count: number): Map<number, number> {
  return new Map([...dropped].map(([id, d]) => [id, count - d]));
}

const RECORDS = 15_000;

test('several writers under load: exactly N lines, each parseable with its status and bytes', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(t, dir);
  const socketPath = path.join(dir, 'logd.sock');
  const writers = [0, 1, 2].map((id) => startWriter(t, { socketPath, id, count: RECORDS, perTurn: 20, format: id === 2 ? 'json' : 'combined' }));
  const dropped = await allDone(writers);
  daemon.error('worker 1 exited with code 0');
  daemon.error('line with\nnewline');
  await daemon.stop();
  assert.deepEqual([...dropped.values()], [0, 0, 0], 'no record dropped');
  checkRecords(logLines(dir, 'access.log'), written(dropped, RECORDS));
  assert.equal(fs.readFileSync(path.join(dir, 'error.log'), 'utf8'), 'worker 1 exited with code 0\nline with\\nnewline\n');
});

test('rotation mid-run (rename + reopen by IPC, rename + SIGUSR1, R on the socket): lines add up to N', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(t, dir);
  const socketPath = path.join(dir, 'logd.sock');
  const access = path.join(dir, 'access.log');
  const writers = [0, 1].map((id) => startWriter(t, { socketPath, id, count: RECORDS, perTurn: 20 }));
  const progress = (): number => Math.min(...writers.map((w) => w.progress()));

  await until(() => progress() >= RECORDS / 4, 'a quarter of the records');
  fs.renameSync(access, `${access}.rotated-by-ipc`);
  daemon.reopen();
  // The reopen is asynchronous: the next rename needs the file it opened.
  await until(() => progress() >= RECORDS / 2 && fs.existsSync(access), 'half of the records, and the reopened file');
  fs.renameSync(access, `${access}.rotated-by-signal`);
  process.kill(daemon.pid, 'SIGUSR1');
  await until(() => progress() >= (RECORDS * 3) / 4, 'three quarters of the records');
  const raw = net.createConnection(socketPath);
  await new Promise((resolve) => raw.once('connect', resolve));
  raw.end(encodeRotateCount(3) + ROTATE);

  const dropped = await allDone(writers);
  await daemon.stop();
  const files = fs.readdirSync(dir).filter((n) => n.startsWith('access.log')).sort();
  assert.deepEqual(files, ['access.log', 'access.log.0', 'access.log.rotated-by-ipc', 'access.log.rotated-by-signal']);
  // The writers may have sent their last line before R arrived, so only the rotated files must hold lines.
  for (const f of files.slice(1)) assert.ok(fs.statSync(path.join(dir, f)).size > 0, `${f} has lines`);
  checkRecords(logLines(dir, 'access.log'), written(dropped, RECORDS));
});

test('kill -9 of logd mid-run, four times: it is respawned each time, every record is in the file exactly once', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(t, dir);
  const socketPath = path.join(dir, 'logd.sock');
  const writers = [0, 1, 2].map((id) => startWriter(t, { socketPath, id, count: RECORDS, perTurn: 20 }));
  const progress = (): number => Math.min(...writers.map((w) => w.progress()));

  const shares = [0.2, 0.4, 0.6, 0.8];
  for (const share of shares) {
    await until(() => progress() >= RECORDS * share, `${share * 100}% of the records`);
    const pid = daemon.pid;
    process.kill(pid, 'SIGKILL');
    await until(() => daemon.pid !== 0 && daemon.pid !== pid, 'the respawned logd');
  }
  assert.equal(daemon.restarts, shares.length);
  daemon.error('after the restarts');

  const dropped = await allDone(writers);
  await daemon.stop();
  assert.deepEqual([...dropped.values()], [0, 0, 0], 'no record dropped');
  checkRecords(logLines(dir, 'access.log'), written(dropped, RECORDS));
  assert.match(fs.readFileSync(path.join(dir, 'error.log'), 'utf8'), /^after the restarts$/m);
});

test('logd stopped (SIGSTOP): writers do not block, drops past the bound are exact, writing resumes on SIGCONT', async (t) => {
  const dir = tempDir(t);
  const daemon = await startDaemon(t, dir);
  const socketPath = path.join(dir, 'logd.sock');
  const count = 30_000; // about 4 MB of lines: more than the socket buffers and the 256 KiB bound together
  const writer = startWriter(t, { socketPath, id: 0, count, bufferBytes: 256 * 1024, gate: true });
  await writer.waitFor('connected');
  const pid = daemon.pid;
  process.kill(pid, 'SIGSTOP');
  t.after(() => {
    try {
      process.kill(pid, 'SIGCONT');
    } catch {
      // gone
    }
  });
  writer.go();
  // Every record was handed to access() while logd could not read: the writer's loop kept turning.
  const droppedWhileStopped = await writer.waitFor('written');
  assert.ok(droppedWhileStopped > 0, 'records were dropped past the bound');
  assert.equal(logLines(dir, 'access.log').length < count - droppedWhileStopped, true, 'not everything is in the file yet');
  process.kill(pid, 'SIGCONT');
  const dropped = await writer.waitFor('done');
  assert.equal(dropped, droppedWhileStopped, 'no drop after SIGCONT');
  await daemon.stop();
  checkRecords(logLines(dir, 'access.log'), new Map([[0, count - dropped]]));
});

test('logd that cannot open its log: start() rejects with one line', async (t) => {
  const dir = tempDir(t);
  await assert.rejects(
    LogDaemon.start({ accessLog: path.join(dir, 'no/such/dir/access.log'), errorLog: '-', socketPath: path.join(dir, 'logd.sock') }),
    (err: Error) => err instanceof HerdError && /^cannot open log file .*access\.log: ENOENT$/.test(err.message),
  );
});
