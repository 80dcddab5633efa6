// HUP: rolling reload under continuous load. No dispatch mode loses anything: the listening
// socket (shared), each slot's socket (reuseport) or the supervisor's listener (handoff) outlives
// every worker, and a draining worker answers the connections it accepted just before.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, startHerd, status, type RunningHerd } from '../support/herd_process.ts';
import { loadLoop, sleep, waitFor } from '../support/http_client.ts';

async function reloadUnderLoad(herd: RunningHerd) {
  const before = await status(herd);
  const load = loadLoop(herd.url, 6);
  await sleep(300);
  herd.child.kill('SIGHUP');
  await waitFor('the reload to finish', () => /reload: done/.test(herd.output()), 30_000);
  await sleep(300);
  const result = await load.stop();
  const after = await status(herd);
  return { before, after, result };
}

for (const dispatch of ['shared', 'handoff', 'reuseport'] as const) {
  test(`${dispatch}: HUP under continuous load replaces every worker with zero failed requests`, async (t) => {
    const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', dispatch]);
    const { before, after, result } = await reloadUnderLoad(herd);
    const oldPids = new Set(before.workers.map((w) => w.pid));
    assert.equal(after.workers.length, 2);
    for (const w of after.workers) assert.ok(!oldPids.has(w.pid), `worker ${w.id} was replaced`);
    assert.ok(result.ok > 50, `load ran (${result.ok} requests)`);
    assert.equal(result.failed, 0, result.errors.slice(0, 5).join('; '));
    // Both generations answered during the run.
    const answered = new Set(result.bodies.keys());
    assert.ok([...oldPids].some((p) => answered.has(String(p))));
    assert.ok(after.workers.some((w) => answered.has(String(w.pid))));
  });
}

test('herd reload over the control socket does the same as HUP', async (t) => {
  const herd = await startHerd(t, ['--workers', '1', '--dispatch', 'shared']);
  const before = await status(herd);
  const r = await herd.command('reload');
  assert.equal(r.code, 0);
  assert.match(r.stdout, /rolling reload started/);
  await waitFor('the reload to finish', () => /reload: done/.test(herd.output()), 30_000);
  const after = await status(herd);
  assert.notEqual(after.workers[0].pid, before.workers[0].pid);
  const stop = await herd.command('stop');
  assert.equal(stop.code, 0);
  assert.equal(await herd.exited, 0);
});
