// herd upgrade (USR2): the running supervisor starts the herd installed now on its own sockets,
// the new one takes over once its workers are ready, the old one drains. Under load, in every
// dispatch mode, no request may fail: clients opening a connection per request and keep-alive
// clients at once. After it, the pid file names the new supervisor and `herd status` reaches it
// through the same control socket path. A new herd that cannot start leaves the old one serving.
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { alive, benchJson, fixture, HERD, startHerd, status, tempDir, type RunningHerd } from '../support/herd_process.ts';
import { loadLoop, request, sleep, waitFor } from '../support/http_client.ts';

const ACTIVATE = '/usr/bin/systemd-socket-activate';
import { notifySkipReason, notifySocket } from '../support/notify_socket.ts';

/** herd bench -c 16 for `seconds`: keep-alive (HTTP/1.1), or a new connection per request. */
const bench = (url: string, seconds: number, keepAlive: boolean) => benchJson(url, seconds, ['-c', '16', ...(keepAlive ? ['-k', '-2'] : [])]);

/** Resolves when the process has exited (not 'close': the new herd keeps the shared stdout open). */
function exitOf(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
  });
}

/** Stops whatever herd serves the control socket now (after an upgrade, not the child the test started). */
async function stopCurrent(herd: RunningHerd): Promise<void> {
  const r = await herd.command('stop');
  assert.equal(r.code, 0, r.stderr);
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([herd.exited, new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`herd did not exit after stop:\n${herd.output()}`)), 30_000)))]);
  clearTimeout(timer);
}

/** The built-in app on herd's engine, and an APP on node:http. */
const ENGINES = { fast: [], node: [fixture('pid.js')] } as const;

for (const [engine, app] of Object.entries(ENGINES)) for (const dispatch of ['reuseport', 'shared', 'handoff'] as const) {
  test(`${dispatch}, ${engine} engine: herd upgrade under load (new connections and keep-alive): zero failed requests; pid file and control socket are the new herd's`, { timeout: 90_000 }, async (t) => {
    const pidFile = path.join(tempDir(t), 'herd.pid');
    const herd = await startHerd(t, [...app, '--workers', '2', '--dispatch', dispatch, '--pid-file', pidFile, '--metrics', '0']);
    const old = await status(herd);
    const oldPid = herd.child.pid!;
    assert.equal(fs.readFileSync(pidFile, 'utf8').trim(), String(oldPid));
    const loads = [bench(herd.url, 6, false), bench(herd.url, 6, true)];
    await sleep(1500);
    const upgrade = await herd.command('upgrade');
    assert.equal(upgrade.code, 0, upgrade.stderr);
    const newPid = Number(/new herd \(pid (\d+)\)/.exec(upgrade.stdout)?.[1]);
    assert.ok(newPid > 0 && newPid !== oldPid, upgrade.stdout);
    await exitOf(herd.child);
    const [perConnection, keepAlive] = await Promise.all(loads);
    for (const [name, r] of [['new connections', perConnection], ['keep-alive', keepAlive]] as const) {
      t.diagnostic(`${dispatch} ${engine} ${name}: ${r.requests.succeeded} ok, ${r.requests.failed} failed ${JSON.stringify(r.errors)}`);
      assert.ok(r.requests.succeeded > 100, `${name} load ran (${r.requests.succeeded})`);
      assert.equal(r.requests.failed, 0, `${name}: ${JSON.stringify(r.errors)}`);
    }
    // The old supervisor is gone, its workers drained; the new one answers at the same path.
    assert.equal(herd.child.exitCode, 0, herd.output());
    for (const w of old.workers) assert.ok(!alive(w.pid), `old worker ${w.pid} exited`);
    assert.equal(fs.readFileSync(pidFile, 'utf8').trim(), String(newPid));
    assert.ok(fs.existsSync(herd.control), 'the control socket path is there');
    const now = await status(herd);
    assert.equal(now.pid, newPid);
    assert.equal(now.dispatch, dispatch);
    assert.deepEqual(now.workers.map((w) => w.state), ['ready', 'ready']);
    assert.equal((await request(herd.url)).status, 200);
    assert.match(herd.output(), /upgrade: took over from herd pid \d+/);
    await stopCurrent(herd);
    assert.ok(!fs.existsSync(herd.control) && !fs.existsSync(pidFile), 'the new herd removed its control socket and pid file when it stopped');
  });
}

test('under socket activation: the new herd serves the socket systemd passed to the old one (shared, the default then), losing nothing', { timeout: 60_000 }, async (t) => {
  if (!fs.existsSync(ACTIVATE)) return t.skip(`${ACTIVATE} (Debian package systemd) is not installed`);
  const port = await freePort();
  const starting = startHerd(t, ['--workers', '2'], { command: [ACTIVATE, '-l', `127.0.0.1:${port}`, process.execPath, HERD, 'serve'] });
  // systemd-socket-activate starts herd at the first connection.
  await waitFor('the socket', async () => request(`http://127.0.0.1:${port}`).then(() => true, () => false), 20_000);
  const herd = await starting;
  assert.equal(herd.port, port);
  const load = loadLoop(herd.url, 8);
  await sleep(500);
  const upgrade = await herd.command('upgrade');
  assert.equal(upgrade.code, 0, upgrade.stderr);
  await exitOf(herd.child);
  await sleep(300);
  const result = await load.stop();
  assert.ok(result.ok > 50, `load ran (${result.ok})`);
  assert.equal(result.failed, 0, result.errors.slice(0, 5).join('; '));
  const now = await status(herd);
  assert.equal(now.dispatch, 'shared');
  // Both herds said where they serve: the same port, systemd's socket.
  assert.equal(herd.output().split(`on http://127.0.0.1:${port} with 2 workers (dispatch shared`).length - 1, 2, herd.output());
  await stopCurrent(herd);
});

test('USR2 is herd upgrade; the metrics and health listeners and an APP\'s own second port are passed on too', { timeout: 60_000 }, async (t) => {
  const adminPort = await freePort();
  const herd = await startHerd(t, [fixture('admin_port.js'), '--workers', '2', '--metrics', '127.0.0.1:0', '--health', '127.0.0.1:0'], { env: { ...process.env, ADMIN_PORT: String(adminPort) } });
  const metricsUrl = /metrics on (http:\/\/\S+)/.exec(herd.output())![1];
  const healthUrl = /health on (http:\/\/\S+)/.exec(herd.output())![1];
  // A probe throughout: readiness stays 200 (the new herd answers it only once it has taken over).
  await waitFor('readiness', async () => (await request(healthUrl, '/readyz')).status === 200);
  const probes: string[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      probes.push(await request(healthUrl, '/readyz').then((r) => String(r.status), (err: Error) => err.message));
      await sleep(10);
    }
  })();
  herd.child.kill('SIGUSR2');
  await exitOf(herd.child);
  probing = false;
  await probe;
  assert.ok(probes.length > 20, `probed (${probes.length})`);
  assert.deepEqual(probes.filter((p) => p !== '200'), [], 'readiness never flickered');
  const now = await status(herd);
  assert.notEqual(now.pid, herd.child.pid);
  assert.match((await request(`http://127.0.0.1:${adminPort}`)).body, /"pid"/);
  assert.equal((await request(metricsUrl, '/metrics')).status, 200);
  assert.equal((await request(healthUrl, '/readyz')).status, 200, 'the new herd answers readiness on the same port');
  assert.match((await request(herd.url)).body, /^main \d+$/);
  await stopCurrent(herd);
});

test('a new herd whose configuration no longer parses: the old one serves on and says why', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'herd.config.json');
  fs.writeFileSync(config, JSON.stringify({ workers: 2 }));
  const pidFile = path.join(dir, 'herd.pid');
  const herd = await startHerd(t, ['--config', config, '--pid-file', pidFile]);
  fs.writeFileSync(config, JSON.stringify({ workers: 'lots' }));
  const upgrade = await herd.command('upgrade');
  assert.equal(upgrade.code, 1);
  assert.match(upgrade.stderr, /^herd: upgrade failed: the new herd \(pid \d+\) exited with code 2 before its workers were ready: .*workers.*lots.*; the running herd serves on\n$/);
  assert.match(herd.output(), /upgrade failed: .*this one serves on/);
  const now = await status(herd);
  assert.equal(now.pid, herd.child.pid);
  assert.equal(fs.readFileSync(pidFile, 'utf8').trim(), String(herd.child.pid));
  assert.equal((await request(herd.url)).status, 200);
  await stopCurrent(herd);
});

test('a new herd whose worker never gets ready (--start-timeout): the old one serves on and says why', { timeout: 60_000 }, async (t) => {
  const flag = path.join(tempDir(t), 'hang');
  const herd = await startHerd(t, [fixture('hang_when_flagged.js'), '--workers', '2', '--start-timeout', '1'], { env: { ...process.env, HERD_TEST_HANG_FLAG: flag } });
  const before = await status(herd);
  fs.writeFileSync(flag, '');
  const upgrade = await herd.command('upgrade');
  assert.equal(upgrade.code, 1);
  assert.match(upgrade.stderr, /upgrade failed: the new herd \(pid \d+\) exited with code 1 before its workers were ready: .*not ready within 1 s \(--start-timeout\)/);
  const now = await status(herd);
  assert.deepEqual(now.workers.map((w) => w.pid), before.workers.map((w) => w.pid), 'the old workers serve on');
  assert.equal((await request(herd.url)).status, 200);
  // It can be tried again once the cause is gone.
  fs.rmSync(flag);
  const again = await herd.command('upgrade');
  assert.equal(again.code, 0, again.stderr);
  await exitOf(herd.child);
  await stopCurrent(herd);
});

test('as PID 1, herd upgrade refuses in one line and herd serves on', { timeout: 60_000 }, async (t) => {
  if (spawnSync('unshare', ['-Urpf', '--mount-proc', 'true']).status !== 0) return t.skip('unshare -Urpf (an unprivileged PID namespace) is not available here');
  const herd = await startHerd(t, ['--workers', '1'], { command: ['unshare', '-Urpf', '--mount-proc', process.execPath, HERD, 'serve'] });
  const upgrade = await herd.command('upgrade');
  assert.equal(upgrade.code, 1);
  assert.match(upgrade.stderr, /^herd: upgrade refused: herd is PID 1 here and cannot replace itself: .*run herd under an init \(docker run --init, tini\)[^\n]*\n$/);
  assert.equal((await request(herd.url)).status, 200);
  const stop = await herd.command('stop');
  assert.equal(stop.code, 0);
  await herd.exited;
});

test('under systemd: MAINPID= names the new herd before the old one exits, and the old one sends no STOPPING=1', { timeout: 60_000 }, async (t) => {
  const skip = notifySkipReason();
  if (skip) return t.skip(skip);
  const notify = await notifySocket(t);
  const herd = await startHerd(t, ['--workers', '1'], { env: { ...process.env, NOTIFY_SOCKET: notify.path } });
  await waitFor('READY=1', () => notify.messages.some((m) => m.fields.READY === '1'));
  let exitedAt = -1;
  void exitOf(herd.child).then(() => (exitedAt = notify.messages.length));
  const upgrade = await herd.command('upgrade');
  assert.equal(upgrade.code, 0, upgrade.stderr);
  const newPid = Number(/new herd \(pid (\d+)\)/.exec(upgrade.stdout)?.[1]);
  await exitOf(herd.child);
  const handOver = notify.messages.findIndex((m) => m.fields.MAINPID === String(newPid));
  assert.ok(handOver >= 0 && handOver < exitedAt, `MAINPID=${newPid} came before the old herd exited: ${JSON.stringify(notify.messages)}`);
  await sleep(500); // anything the old herd might still have sent has arrived
  const beforeStop = notify.messages.length;
  assert.ok(!notify.messages.slice(handOver).some((m) => m.fields.STOPPING), `no STOPPING=1 from the old herd: ${JSON.stringify(notify.messages)}`);
  await stopCurrent(herd);
  assert.ok(beforeStop > 0);
  assert.ok(notify.messages.some((m) => m.fields.STOPPING === '1'), 'the new herd says STOPPING=1 when it stops');
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
