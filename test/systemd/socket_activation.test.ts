// systemd socket activation with Debian's systemd-socket-activate, which binds, waits for the first
// connection and execs herd with LISTEN_FDS=1 (as systemd does for a .socket unit): that first
// connection is served. And the unit pair herd systemd-unit prints, run the way systemd would.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import { fixture, HERD, runHerd, startHerd, tempDir } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';
import { notifySkipReason, notifySocket } from '../support/notify_socket.ts';

const ACTIVATE = '/usr/bin/systemd-socket-activate';
const skip = fs.existsSync(ACTIVATE) ? false : `${ACTIVATE} (Debian package systemd) is not installed`;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.once('error', reject);
  });
}

/** The first request, sent as soon as systemd-socket-activate listens (it execs herd on it). */
async function firstRequest(port: number): Promise<Awaited<ReturnType<typeof request>>> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    try {
      return await request(`http://127.0.0.1:${port}`, '/', 20_000);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

for (const dispatch of ['shared', 'handoff'] as const) {
  test(`${dispatch}: serves the socket systemd passes, first connection included`, { skip, timeout: 60_000 }, async (t) => {
    const port = await freePort();
    // Sent before herd exists: it waits in the socket's queue until a worker takes it.
    const first = firstRequest(port);
    const herd = await startHerd(t, [fixture('pid.js'), '--workers', '2', '--dispatch', dispatch], {
      command: [ACTIVATE, '-l', `127.0.0.1:${port}`, process.execPath, HERD, 'serve'],
    });
    assert.equal(herd.port, port, herd.output());
    assert.match(herd.output(), new RegExp(`on http://127\\.0\\.0\\.1:${port} with 2 workers \\(dispatch ${dispatch}`));
    const reply = await first;
    assert.equal(reply.status, 200);
    const pids = new Set<string>();
    for (let i = 0; i < 20; i++) pids.add((await request(herd.url, '/busy')).body);
    assert.ok(pids.size >= 1);
    // A reload keeps the socket: systemd's descriptor outlives every worker.
    herd.child.kill('SIGHUP');
    await waitFor('the reload', () => /reload: done/.test(herd.output()), 30_000);
    assert.equal((await request(herd.url)).status, 200);
    herd.child.kill('SIGTERM');
    assert.equal(await herd.exited, 0);
  });
}

test('reuseport refuses a passed socket in one line; the default under activation is shared', { skip, timeout: 30_000 }, async (t) => {
  const port = await freePort();
  const dir = tempDir(t);
  const { spawn } = await import('node:child_process');
  const child = spawn(ACTIVATE, ['-l', `127.0.0.1:${port}`, process.execPath, HERD, 'serve', '--dispatch', 'reuseport', '--control', path.join(dir, 'c.sock')], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  void firstRequest(port).catch(() => {});
  assert.equal(await exited, 2);
  assert.match(stderr, /^herd: --dispatch reuseport cannot serve a socket systemd passed \(LISTEN_FDS\)/m);

  const port2 = await freePort();
  const first = firstRequest(port2);
  const herd = await startHerd(t, ['--workers', '1'], { command: [ACTIVATE, '-l', `127.0.0.1:${port2}`, process.execPath, HERD, 'serve'] });
  assert.match(herd.output(), /dispatch shared/);
  assert.equal((await first).body, 'Hello, World!');
});

/** systemd's ExecStart= words, for the quoting herd writes (double quotes, backslash escapes, %% and $$). */
function execWords(line: string): string[] {
  const words: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|(\S+)/g;
  for (const m of line.matchAll(re)) words.push((m[1] !== undefined ? m[1].replace(/\\(.)/g, '$1') : m[2]).replaceAll('%%', '%').replaceAll('$$', '$'));
  return words;
}

test('herd systemd-unit: the unit pair runs as systemd would run it (socket, notify, stop timeout)', { skip, timeout: 60_000 }, async (t) => {
  const port = await freePort();
  const dir = tempDir(t);
  const control = path.join(dir, 'control sock'); // a space, to exercise the quoting
  const unit = await runHerd(['systemd-unit', '--name', 'web', fixture('pid.js'), '--host', '127.0.0.1', '--port', String(port), '--workers', '2', '--grace', '10', '--shutdown-delay', '0.5', '--control', control]);
  assert.equal(unit.code, 0, unit.stderr);
  const field = (name: string) => [...unit.stdout.matchAll(new RegExp(`^${name}=(.*)$`, 'gm'))].map((m) => m[1]);
  assert.deepEqual(field('Type'), ['notify']);
  assert.deepEqual(field('NotifyAccess'), ['all']);
  assert.deepEqual(field('KillMode'), ['mixed']);
  assert.deepEqual(field('TimeoutStopSec'), ['16']); // 0.5 + 10 + 5, rounded up
  assert.deepEqual(field('Requires'), ['web.socket']);
  assert.deepEqual(field('ListenStream'), [`127.0.0.1:${port}`]);
  assert.match(unit.stdout, /^# web\.socket/m);
  const exec = execWords(field('ExecStart')[0]);
  assert.equal(exec[0], process.execPath);
  assert.ok(exec.includes('--dispatch') && exec[exec.indexOf('--dispatch') + 1] === 'shared');
  assert.equal(exec[exec.indexOf('--control') + 1], control);

  // Run it: the socket unit's ListenStream held by systemd-socket-activate, ExecStart exec'd on the
  // first connection, NOTIFY_SOCKET a datagram socket standing in for systemd's when python3 is here.
  const notifySkip = notifySkipReason();
  const notify = notifySkip ? null : await notifySocket(t);
  if (notifySkip) t.diagnostic(`READY=1 not checked: ${notifySkip}`);
  const first = firstRequest(port);
  const { spawn } = await import('node:child_process');
  const child = spawn(ACTIVATE, ['-l', field('ListenStream')[0], ...(notify ? ['-E', `NOTIFY_SOCKET=${notify.path}`] : []), ...exec], { cwd: field('WorkingDirectory')[0], stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // gone
    }
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.equal((await first).status, 200, output);
  if (notify) {
    await waitFor('READY=1', () => notify.messages.some((m) => m.fields.READY === '1'));
    assert.equal(notify.messages[0].fields.MAINPID, String(child.pid));
  }
  // ExecReload=/bin/kill -HUP $MAINPID, then systemctl stop: TERM to the main process (KillMode=mixed).
  process.kill(child.pid!, 'SIGHUP');
  await waitFor('the reload', () => /reload: done/.test(output), 30_000);
  process.kill(child.pid!, 'SIGTERM');
  assert.equal(await exited, 0, output);
  if (notify) {
    await waitFor('STOPPING=1', () => notify.messages.some((m) => m.fields.STOPPING === '1'));
    assert.deepEqual(notify.messages.map((m) => Object.keys(m.fields).find((k) => k !== 'MAINPID' && k !== 'STATUS')), ['READY', 'RELOADING', 'READY', 'STOPPING', undefined]);
  }
});
