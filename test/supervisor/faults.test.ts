// Faults the supervisor must survive, with real processes: an app that never finishes starting (at
// start-up and as a reload's newcomer), and the supervisor's own death (kill -9).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { alive, fixture, runHerd, startHerd, status, tempDir } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';
import type { Status } from '../../src/supervisor/control_protocol.ts';

test('an APP whose import never finishes: one line naming it and --start-timeout, exit 1', { timeout: 30_000 }, async (t) => {
  const r = await runHerd(['serve', fixture('never_ready.js'), '--host', '127.0.0.1', '--port', '0', '--workers', '2', '--start-timeout', '1', '--control', path.join(tempDir(t), 'c.sock')]);
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^herd: APP \S*never_ready\.js was not ready within 1 s \(--start-timeout\)/);
});

test('a reload whose newcomer hangs is abandoned; the old worker serves on, and the next HUP works', { timeout: 60_000 }, async (t) => {
  const flag = path.join(tempDir(t), 'hang');
  // 3 s: a normal start on a loaded machine must fit in it; the hanging newcomer is killed after 5.
  const herd = await startHerd(t, [fixture('hang_when_flagged.js'), '--workers', '1', '--start-timeout', '3'], { env: { ...process.env, HERD_TEST_HANG_FLAG: flag } });
  const before = (await request(herd.url, '/')).body;
  fs.writeFileSync(flag, '');
  herd.child.kill('SIGHUP');
  await waitFor('the reload to be abandoned', () => /reload: abandoned/.test(herd.output()));
  assert.match(herd.output(), /reload aborted: the new worker 1 did not start: APP \S+ was not ready within 3 s \(--start-timeout\)/);
  assert.doesNotMatch(herd.output(), /reload: done/);
  assert.equal((await request(herd.url, '/')).body, before, 'the old worker still serves');
  const after = JSON.parse((await herd.command('status', '--json')).stdout) as Status;
  assert.equal(after.workers.length, 1);
  assert.equal(after.lastReload?.outcome, 'abandoned');
  assert.match((await herd.command('status')).stdout, /last reload abandoned: the new worker 1 did not start: APP \S+ was not ready within 3 s/);
  fs.rmSync(flag);
  herd.child.kill('SIGHUP');
  await waitFor('the second reload', () => /reload: done/.test(herd.output()));
  assert.notEqual((await request(herd.url, '/')).body, before, 'a new worker serves');
});

for (const dispatch of ['reuseport', 'shared', 'handoff'] as const) {
  test(`${dispatch}: kill -9 of the supervisor: workers and logd are gone within about a second, the port is free`, { timeout: 30_000 }, async (t) => {
    const dir = tempDir(t);
    const herd = await startHerd(t, [fixture('slow.js'), '--workers', '2', '--dispatch', dispatch, '--access-log', path.join(dir, 'access.log')]);
    const s = await status(herd);
    const pids = [...s.workers.map((w) => w.pid), s.logd!.pid];
    // A keep-alive connection and a request in flight: neither may keep a worker alive.
    const idle = net.connect(herd.port, '127.0.0.1');
    idle.on('error', () => {});
    t.after(() => idle.destroy());
    void request(herd.url, '/slow').catch(() => {});
    await new Promise((r) => setTimeout(r, 100));
    const killedAt = Date.now();
    process.kill(herd.child.pid!, 'SIGKILL');
    await waitFor('every worker and logd to exit', () => pids.every((pid) => !alive(pid)), 5000);
    const tookMs = Date.now() - killedAt;
    // The target is 1 s; the bound leaves room for a loaded machine. Before, a worker waited for its
    // in-flight request and then up to 5 s for the dead logd to acknowledge its last records.
    assert.ok(tookMs < 4500, `took ${tookMs} ms`);
    const probe = net.createServer();
    await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(herd.port, '127.0.0.1', resolve));
    probe.close();
  });
}

test('a worker that dies of an uncaught exception right after answering still logs that request', { timeout: 30_000 }, async (t) => {
  const log = path.join(tempDir(t), 'access.log');
  const herd = await startHerd(t, [fixture('crash_after_answer.js'), '--workers', '1', '--access-log', log]);
  const first = (await status(herd)).workers[0].pid;
  assert.equal((await request(herd.url, '/before')).body, '/before');
  assert.equal((await request(herd.url, '/crash')).body, '/crash');
  await waitFor('the respawn', async () => (await status(herd)).workers.some((w) => w.pid !== first && w.state === 'ready'));
  await waitFor('both lines', () => fs.existsSync(log) && fs.readFileSync(log, 'utf8').split('\n').length >= 3);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  assert.deepEqual(lines.map((l) => /"GET (\S+) /.exec(l)?.[1]), ['/before', '/crash']);
});
