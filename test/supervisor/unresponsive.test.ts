// A worker whose event loop is stuck (SIGSTOP stands in for a hung loop): it misses its heartbeat,
// status says "unresponsive", fresh requests do not go to it (handoff), or its replacement starts
// at once on the same socket (reuseport, shared); it is killed after --unresponsive-timeout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { alive, startHerd, status } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';

for (const dispatch of ['handoff', 'reuseport', 'shared'] as const) {
  test(`${dispatch}: a stopped worker is unresponsive in status, fresh requests are answered, it is replaced after --unresponsive-timeout`, { timeout: 60_000 }, async (t) => {
    const herd = await startHerd(t, ['--workers', '2', '--dispatch', dispatch, '--unresponsive-timeout', '4']);
    const stuck = (await status(herd)).workers[0];
    process.kill(stuck.pid, 'SIGSTOP');
    t.after(() => {
      if (alive(stuck.pid)) process.kill(stuck.pid, 'SIGCONT');
    });
    await waitFor('status to say unresponsive', async () => (await status(herd)).workers.some((w) => w.pid === stuck.pid && w.state === 'unresponsive'), 10_000);
    if (dispatch !== 'handoff') {
      await waitFor('its replacement on the same socket', async () => (await status(herd)).workers.some((w) => w.id === stuck.id && w.pid !== stuck.pid && w.state === 'ready'), 10_000);
    }
    // Fresh connections: none goes to the stuck worker (handoff), or the replacement takes those
    // the kernel hashes to its slot's socket (reuseport). Before, 3 of 5 hung with handoff.
    for (let i = 0; i < 5; i++) {
      const started = Date.now();
      const reply = await request(herd.url, `/fresh-${i}`, 2500);
      assert.equal(reply.status, 200);
      t.diagnostic(`fresh request ${i}: ${Date.now() - started} ms`);
    }
    await waitFor('the stuck worker to be killed', () => !alive(stuck.pid), 15_000);
    assert.match(herd.output(), new RegExp(`worker ${stuck.id} \\(pid ${stuck.pid}\\) does not answer`));
    assert.match(herd.output(), new RegExp(`worker ${stuck.id} \\(pid ${stuck.pid}\\) killed: it did not answer for 4 s \\(--unresponsive-timeout\\)`));
    await waitFor('slot 1 served by a new worker', async () => {
      const s = await status(herd);
      return s.workers.length === 2 && s.workers.every((w) => w.state === 'ready') && s.workers.some((w) => w.id === stuck.id && w.pid !== stuck.pid);
    }, 15_000);
    assert.equal((await request(herd.url, '/after', 2500)).status, 200);
  });
}
