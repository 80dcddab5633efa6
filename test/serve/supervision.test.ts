// Supervision: kill -9 of a worker, graceful stop with a request in flight, crash loops.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { fixture, startHerd, status } from '../support/herd_process.ts';
import { loadLoop, request, sleep, waitFor } from '../support/http_client.ts';

for (const dispatch of ['reuseport', 'handoff'] as const) {
  test(`${dispatch}: kill -9 of a worker under load: it is respawned, the others keep serving`, async (t) => {
    const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', dispatch]);
    const before = await status(herd);
    const victim = before.workers[0];
    const load = loadLoop(herd.url, 4);
    await sleep(300);
    process.kill(victim.pid, 'SIGKILL');
    const killedAt = load.result.ok + load.result.failed;
    await waitFor('the worker to be respawned', async () => {
      const s = await status(herd);
      const slot = s.workers.find((w) => w.id === victim.id);
      return slot !== undefined && slot.pid !== victim.pid && s.workers.length === 2;
    });
    const okAtRespawn = load.result.ok;
    const failedAtRespawn = load.result.failed;
    await sleep(500);
    const result = await load.stop();
    const after = await status(herd);
    const slot = after.workers.find((w) => w.id === victim.id)!;
    assert.equal(slot.restarts, 1);
    assert.notEqual(slot.pid, victim.pid);
    assert.ok(killedAt > 0, 'load was running when the worker was killed');
    assert.ok(result.ok > okAtRespawn, 'requests keep succeeding after the respawn');
    t.diagnostic(`${dispatch} kill -9: ${result.ok} ok, ${result.failed} failed${result.failed ? ` (${[...new Set(result.errors)].join('; ')})` : ''}`);
    // Only what the killed worker held can fail, at the kill: with handoff at most one request per
    // client. With reuseport also what the kernel queued on the dying worker's socket until the
    // dying process closed it, which can be a reset client's next attempts: a few per client.
    const bound = dispatch === 'handoff' ? 4 : 16;
    assert.ok(result.failed <= bound, `${result.failed} failed: ${result.errors.join('; ')}`);
    assert.equal(result.failed, failedAtRespawn, 'nothing failed after the respawn');
    assert.match(herd.output(), new RegExp(`worker ${victim.id} \\(pid ${victim.pid}\\) exited with signal SIGKILL; respawning`));
  });
}

test('handoff: connections sent to a worker that dies before reading them are served by another', async (t) => {
  const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', 'handoff']);
  const [victim, survivor] = (await status(herd)).workers;
  // Stopped, the victim cannot read its pipe: round-robin leaves every other connection in it.
  process.kill(victim.pid, 'SIGSTOP');
  const replies = Array.from({ length: 10 }, () => request(herd.url, '/', 15_000).then((r) => r, (err: Error) => err));
  await sleep(500);
  process.kill(victim.pid, 'SIGKILL');
  const results = await Promise.all(replies);
  const failed = results.filter((r) => r instanceof Error);
  assert.deepEqual(failed.map((e) => (e as Error).message), [], 'no connection lost with the worker');
  for (const r of results) assert.equal((r as { body: string }).body, String(survivor.pid), 'answered by the survivor');
});

test('TERM with a slow request in flight: it completes, herd exits 0 within the grace time', async (t) => {
  const herd = await startHerd(t, [fixture('slow.js'), '--workers', '2', '--grace', '10']);
  const slow = request(herd.url, '/slow');
  await sleep(300);
  const termAt = Date.now();
  herd.child.kill('SIGTERM');
  const reply = await slow;
  assert.equal(reply.status, 200);
  assert.equal(reply.body, 'slow done');
  assert.equal(await herd.exited, 0);
  assert.ok(Date.now() - termAt < 10_000, 'exited within --grace');
  // Stopped accepting: the port is closed now.
  await assert.rejects(request(herd.url, '/'), /ECONNREFUSED/);
});

test('TERM: a request that outlives --grace is cut, and herd still exits', async (t) => {
  const herd = await startHerd(t, [fixture('faulty.js'), '--workers', '1', '--grace', '0.5', '--request-timeout', '60']);
  const hang = request(herd.url, '/hang').catch((err: Error) => err);
  await sleep(300);
  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0);
  assert.ok((await hang) instanceof Error, 'the hanging request was cut');
});

test('a worker that dies right after every start is a crash loop: herd stops, exits 1, prints the error once', async (t) => {
  const herd = await startHerd(t, [fixture('crash_after_start.js'), '--workers', '2']);
  const code = await herd.exited;
  assert.equal(code, 1);
  const out = herd.output();
  assert.match(out, /herd: crash loop: worker \d died 5 times in a row before or within a second of being ready; stopping\. Its error: uncaught exception: Error: boom after start/);
  const stackPrints = out.split('\n').filter((l) => l.includes('uncaught exception: Error: boom after start') && !l.includes('crash loop'));
  assert.equal(stackPrints.length, 1, `the error is printed once, not per death:\n${out}`);
});

for (const engine of ['fast', 'node'] as const) {
  test(`${engine} engine: TERM closes idle keep-alive connections at once and answers in-flight ones with Connection: close`, async (t) => {
    const herd = await startHerd(t, [fixture('slow.js'), '--engine', engine, '--workers', '1', '--grace', '20', '--keep-alive-timeout', '60']);
    const { hostname, port } = new URL(herd.url);
    const open = (): Promise<net.Socket> => new Promise((resolve, reject) => {
      const s = net.connect(Number(port), hostname, () => resolve(s));
      s.once('error', reject);
    });
    const exchange = (socket: net.Socket, path: string): Promise<string> => new Promise((resolve) => {
      let text = '';
      const onData = (d: Buffer) => {
        text += d.toString('latin1');
        if (/\r\n\r\n[\s\S]*(fast|slow done)$/.test(text)) {
          socket.off('data', onData);
          resolve(text);
        }
      };
      socket.on('data', onData);
      socket.write(`GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`);
    });
    const idle = await open();
    assert.doesNotMatch(await exchange(idle, '/'), /connection: close/i, 'a keep-alive response');
    const busy = await open();
    await exchange(busy, '/');
    const inFlight = exchange(busy, '/slow');
    await sleep(200);
    const idleClosed = new Promise<void>((resolve) => idle.once('close', () => resolve()));
    herd.child.kill('SIGTERM');
    await idleClosed; // long before the 60 s keep-alive timeout or the 20 s grace
    assert.match(await inFlight, /connection: close/i);
    assert.equal(await herd.exited, 0);
  });
}
