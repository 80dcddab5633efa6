// The worker-side client against a scripted daemon on a real unix socket: what it resends after a
// daemon died in the middle of a write, and what it does when nobody reads.
import assert from 'node:assert/strict';
import net from 'node:net';
import path from 'node:path';
import { test, type TestContext } from 'node:test';
import type { AccessRecord } from '../../src/logd/access_record.ts';
import { createLogClient, SEND_DELAY_MS, type LogClient } from '../../src/logd/client.ts';
import { formatCombined } from '../../src/logd/formats.ts';
import { tempDir } from '../support/herd_process.ts';

const record = (i: number): AccessRecord => ({
  remote: '127.0.0.1',
  time: 0,
  method: 'GET',
  url: `/r/${i}`,
  httpVersion: '1.1',
  status: 200,
  bytes: i,
  referer: undefined,
  userAgent: undefined,
  durationMs: 0,
});

/** One scripted daemon: greets, then hands every line it reads to `onLines`. */
async function scriptedDaemon(t: TestContext, socketPath: string, greeting: string, onLines: (lines: string[], socket: net.Socket) => void): Promise<net.Server> {
  const server = net.createServer((socket) => {
    socket.write(greeting);
    let text = '';
    socket.on('data', (d) => {
      text += d.toString('latin1');
      onLines(text.split('\n').slice(0, -1), socket);
    });
    socket.on('error', () => {});
  });
  t.after(() => server.close());
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  return server;
}

function client(t: TestContext, socketPath: string, bufferBytes = 1 << 20, onDropNotice?: (n: number) => void): LogClient {
  const c = createLogClient({ socketPath, format: 'combined', bufferBytes, onDropNotice });
  t.after(() => c.close());
  return c;
}

/**
 * First daemon: reads records 0..4, announces them as file bytes [1000, 1000 + total), and dies
 * before it acknowledges them. Returns the client that wrote them and each line's file bytes.
 */
async function firstDaemonDiesUnacknowledged(t: TestContext, socketPath: string): Promise<{ c: LogClient; fileBytes: number[]; total: number }> {
  const fileBytes = [0, 1, 2, 3, 4].map((i) => formatCombined(record(i)).length + 1);
  const total = fileBytes.reduce((a, b) => a + b, 0);
  const first = await scriptedDaemon(t, socketPath, 'E0\n', (lines, socket) => {
    if (lines.length < 5) return;
    socket.end(`P${total + 5} 42 1000 ${1000 + total}\n`, () => {
      socket.destroy();
      first.close();
    });
  });
  const c = client(t, socketPath);
  for (let i = 0; i < 5; i++) c.access(record(i));
  await new Promise((resolve) => first.once('close', resolve));
  return { c, fileBytes, total };
}

/**
 * After firstDaemonDiesUnacknowledged, a second daemon says the first one's writes ended at
 * `horizon(fileBytes)` on inode `ino`. Returns the lines the client sends to the second daemon.
 */
async function resendAfterDeath(t: TestContext, ino: number, horizon: (fileBytes: number[]) => number): Promise<string[]> {
  const socketPath = path.join(tempDir(t), 'logd.sock');
  const { fileBytes } = await firstDaemonDiesUnacknowledged(t, socketPath);
  return new Promise((resolve) => {
    void scriptedDaemon(t, socketPath, `H0 ${ino} ${1000 + horizon(fileBytes)}\nE1\n`, (lines) => {
      // the client sent everything it holds once it has sent record 4
      if (lines.some((l) => l.includes('/r/4 '))) resolve(lines);
    });
  });
}

test('after a daemon died mid-write, exactly the records beyond its horizon are resent', async (t) => {
  // two whole lines and part of the third reached the file before the death (the next daemon cut the part)
  const lines = await resendAfterDeath(t, 42, (b) => b[0]! + b[1]! + 10);
  assert.deepEqual(lines, [2, 3, 4].map((i) => `L${formatCombined(record(i))}`));
});

test('a batch written whole but never acknowledged is not resent', async (t) => {
  const socketPath = path.join(tempDir(t), 'logd.sock');
  // the second daemon's horizon covers everything: the client must then send only new records
  const { c, total } = await firstDaemonDiesUnacknowledged(t, socketPath);
  const lines = await new Promise<string[]>((resolve) => {
    void scriptedDaemon(t, socketPath, `H0 42 ${1000 + total}\nE1\n`, (l) => {
      if (l.some((x) => x.includes('/r/5 '))) resolve(l);
    }).then((second) => second.once('connection', () => c.access(record(5))));
  });
  assert.deepEqual(lines, [`L${formatCombined(record(5))}`]);
});

test('when the file the batch went to is not the one the next daemon found, everything is resent', async (t) => {
  const lines = await resendAfterDeath(t, 7, (b) => b[0]! + b[1]!);
  assert.deepEqual(lines, [0, 1, 2, 3, 4].map((i) => `L${formatCombined(record(i))}`));
});

test('the announcement of a daemon that dies while more records wait is read, not lost: nothing is written twice', async (t) => {
  const socketPath = path.join(tempDir(t), 'logd.sock');
  const fileBytes = [0, 1, 2, 3, 4].map((i) => formatCombined(record(i)).length + 1);
  const total = fileBytes.reduce((a, b) => a + b, 0);
  let holding: (socket: net.Socket) => void = () => {};
  const held = new Promise<net.Socket>((resolve) => (holding = resolve));
  const server = await scriptedDaemon(t, socketPath, 'E0\n', (lines, socket) => {
    if (lines.length === 5) holding(socket);
  });
  const c = client(t, socketPath);
  for (let i = 0; i < 5; i++) c.access(record(i));
  const socket = await held;
  // Record 5 is due to be sent within SEND_DELAY_MS. The daemon announces records 0..4 as written, and dies;
  // then this process is busy past the send timer, so the timer runs before the announcement is read.
  c.access(record(5));
  socket.write(`P${total + 5} 42 1000 ${1000 + total}\n`);
  socket.destroy();
  server.close();
  const busyUntil = Date.now() + 3 * SEND_DELAY_MS;
  while (Date.now() < busyUntil);
  const lines = await new Promise<string[]>((resolve) => {
    void scriptedDaemon(t, socketPath, `H0 42 ${1000 + total}\nE1\n`, (l) => {
      if (l.some((x) => x.includes('/r/5 '))) resolve(l);
    });
  });
  assert.deepEqual(lines, [`L${formatCombined(record(5))}`]);
});

test('nobody reading: access() returns, drops past the bound are counted exactly, one notice', async (t) => {
  const socketPath = path.join(tempDir(t), 'logd.sock');
  // a daemon that never greets: the client holds every record in its buffer
  await scriptedDaemon(t, socketPath, '', () => {});
  const notices: number[] = [];
  const lineBytes = formatCombined(record(100)).length + 2;
  const c = client(t, socketPath, lineBytes * 10, (n) => notices.push(n));
  for (let i = 100; i < 125; i++) c.access(record(i));
  c.access({ ...record(0), url: undefined as unknown as string }); // malformed: dropped, not thrown
  assert.equal(c.dropped(), 16);
  await new Promise((resolve) => setTimeout(resolve, 20));
  assert.deepEqual(notices, [16]);
  c.access(record(200));
  assert.equal(c.dropped(), 17);
  await c.flush(50); // resolves at the timeout: nothing was acknowledged
  assert.deepEqual(notices, [16], 'the next notice waits 30 s');
});
