// The bugs of the seed's process pool (experiment 7), pinned for every dispatch mode:
// - lost accepts: an edge-triggered listener that accepted once per wake-up left connections
//   that arrived together in the backlog forever (`webbench -c 2` worked once, then hung);
// - a blocked IPC pipe that deadlocked the pool at 2000 clients.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { startHerd } from '../support/herd_process.ts';
import { loadLoop, request, sleep } from '../support/http_client.ts';

const MODES = ['reuseport', 'shared', 'handoff'] as const;

/** Opens `count` connections at once, then sends a request on each; resolves with the statuses. */
async function burst(url: string, count: number, timeoutMs: number): Promise<number[]> {
  const { hostname, port } = new URL(url);
  const sockets = await Promise.all(
    Array.from({ length: count }, () => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(Number(port), hostname, () => resolve(s));
      s.once('error', reject);
    })),
  );
  return Promise.all(sockets.map((socket) => new Promise<number>((resolve, reject) => {
    let text = '';
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.once('error', reject);
    socket.once('close', () => resolve(Number(text.split(' ')[1])));
    socket.write(`GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  })));
}

for (const dispatch of MODES) {
  test(`${dispatch}: 200 connections opened at once are all answered`, async (t) => {
    const herd = await startHerd(t, ['--workers', '2', '--dispatch', dispatch]);
    const statuses = await burst(herd.url, 200, 15_000);
    assert.deepEqual(statuses, Array(200).fill(200));
  });

  test(`${dispatch}: two load runs back to back both succeed, and a plain request after them is answered at once`, async (t) => {
    const herd = await startHerd(t, ['--workers', '1', '--dispatch', dispatch]);
    for (const run of [1, 2]) {
      const load = loadLoop(herd.url, 2);
      await sleep(500);
      const result = await load.stop();
      assert.ok(result.ok > 0, `run ${run} served requests`);
      assert.equal(result.failed, 0, `run ${run}: ${result.errors.slice(0, 3).join('; ')}`);
    }
    // The seed's wget waited forever here; a 2 s bound is generous for one loopback request.
    const reply = await request(herd.url, '/', 2_000);
    assert.equal(reply.status, 200);
  });
}

for (const dispatch of MODES) {
  test(`${dispatch}: 3000 concurrent connections do not stall the server`, async (t) => {
    const herd = await startHerd(t, ['--workers', '2', '--dispatch', dispatch, '--backlog', '4096']);
    const statuses = await burst(herd.url, 3000, 60_000);
    assert.equal(statuses.filter((s) => s === 200).length, 3000);
    assert.equal((await request(herd.url, '/', 5_000)).status, 200);
  });
}
