// Every dispatch mode serves requests from every worker, and `herd status --json` accounts for them.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, startHerd, status } from '../support/herd_process.ts';
import { request } from '../support/http_client.ts';

for (const dispatch of ['reuseport', 'shared', 'handoff'] as const) {
  test(`${dispatch}: every worker serves, and status shows each worker's share`, async (t) => {
    const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', dispatch]);
    // Concurrent clients on a handler that holds its worker for 5 ms: even `shared`, which lets one
    // worker win every accept when clients come one at a time, must then spread the load.
    const total = 200;
    const pids = new Map<string, number>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < total) {
          next++;
          const reply = await request(herd.url, '/busy');
          assert.equal(reply.status, 200);
          pids.set(reply.body, (pids.get(reply.body) ?? 0) + 1);
        }
      }),
    );
    const s = await status(herd);
    assert.equal(s.dispatch, dispatch);
    assert.equal(s.workers.length, 2);
    assert.equal(pids.size, 2, `both workers should answer, got ${JSON.stringify([...pids])}`);
    for (const w of s.workers) {
      assert.equal(w.requests, pids.get(String(w.pid)), `worker ${w.id}'s count matches what the client saw`);
      assert.ok(w.share > 0 && w.share < 1);
    }
    assert.equal(s.requests, total);
    const shares = s.workers.reduce((sum, w) => sum + w.share, 0);
    assert.ok(Math.abs(shares - 1) < 1e-9);
  });
}

test('handoff least-connections serves from every worker', async (t) => {
  const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', 'handoff', '--handoff', 'least']);
  const replies = await Promise.all(Array.from({ length: 40 }, () => request(herd.url, '/busy')));
  assert.equal(new Set(replies.map((r) => r.body)).size, 2);
});

test('the built-in app answers Hello, World! and the banner names the workers and dispatch', async (t) => {
  const herd = await startHerd(t, ['--workers', '2']);
  const reply = await request(herd.url);
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'Hello, World!');
  assert.match(herd.output(), /with 2 workers \(dispatch reuseport/);
});

test('an Express app runs unchanged on the node engine', async (t) => {
  const herd = await startHerd(t, [fixture('express_app.js'), '--workers', '1']);
  assert.equal((await request(herd.url)).body, 'hello from express');
  const json = await request(herd.url, '/json');
  assert.equal(json.headers['content-type'], 'application/json; charset=utf-8');
  assert.ok(JSON.parse(json.body).pid > 0);
});
