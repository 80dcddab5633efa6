// --max-memory: a worker whose memory grows above the limit is replaced the way a reload replaces
// one (the new worker first, then the old one drains), under connection-per-request load, with no
// failed request. PM2's max_memory_restart kills the process instead, and what it held fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchJson, fixture, startHerd, status } from '../support/herd_process.ts';
import { request, sleep, waitFor } from '../support/http_client.ts';

for (const dispatch of ['reuseport', 'handoff'] as const) {
  test(`${dispatch}: --max-memory replaces the worker that grew past it, new one first, 0 failed requests under load`, { timeout: 60_000 }, async (t) => {
    const herd = await startHerd(t, [fixture('grows.js'), '--workers', '2', '--dispatch', dispatch, '--max-memory', '400']);
    const before = (await status(herd)).workers;
    const load = benchJson(herd.url, 5, ['-c', '16']);
    await sleep(1000);
    // Grow one worker (whichever answers) past 400 MB. A node worker under this load settles near
    // 170 MB of its own (V8 grows its heap lazily), so the limit sits well above that.
    const grown = Number((await request(herd.url, '/grow')).body);
    await waitFor('the replacement', () => new RegExp(`\\(pid ${grown}\\) uses \\d+ MB, over --max-memory 400 MB: replacing it`).test(herd.output()), 10_000);
    await waitFor('the grown worker to drain and leave', () => new RegExp(`\\(pid ${grown}\\) exited with code 0 after draining`).test(herd.output()), 20_000);
    const result = await load;
    const after = (await status(herd)).workers;
    t.diagnostic(`${dispatch} --max-memory: ${result.requests.succeeded} ok, ${result.requests.failed} failed ${JSON.stringify(result.errors)}`);
    assert.ok(!after.some((w) => w.pid === grown), 'the grown worker is gone');
    assert.equal(after.length, 2);
    assert.ok(after.some((w) => before.some((b) => b.pid === w.pid)), 'the other worker was left alone');
    assert.doesNotMatch(herd.output(), new RegExp(`\\(pid ${grown}\\) exited with signal`), 'never killed');
    assert.ok(result.requests.succeeded > 100, `load ran (${result.requests.succeeded})`);
    assert.equal(result.requests.failed, 0, JSON.stringify(result.errors));
  });
}
