// herd ls, and herd status|reload|stop with no --port or --control: the herds this user runs are found
// by their control sockets in the private runtime directory.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fixture, runHerd, startHerd, tempDir } from '../support/herd_process.ts';

test('herd ls lists two herds; status with neither flag names both and refuses to guess; with one left, it picks it', { timeout: 60_000 }, async (t) => {
  const env = { ...process.env, XDG_RUNTIME_DIR: tempDir(t) };
  const none = await runHerd(['status'], 20_000, env);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^herd: no herd is running for this user \(none answers in \S+\/herd\)/);

  const hello = await startHerd(t, ['--workers', '2'], { env, defaultControl: true });
  const express = await startHerd(t, [fixture('express_app.js'), '--workers', '1'], { env, defaultControl: true });

  const ls = await runHerd(['ls'], 20_000, env);
  assert.equal(ls.code, 0, ls.stderr);
  const lines = ls.stdout.trim().split('\n');
  assert.match(lines[0], /^pid\s+listen\s+app\s+workers\s+uptime\s+control$/);
  assert.equal(lines.length, 3, ls.stdout);
  const row = (pid: number) => lines.find((l) => l.startsWith(`${pid} `)) ?? '';
  assert.match(row(hello.child.pid!), new RegExp(`${hello.url.replace(/\//g, '\\/')}\\s+built-in hello app\\s+2/2\\s`));
  assert.match(row(express.child.pid!), /express_app\.js\s+1\/1\s/);
  const json = JSON.parse((await runHerd(['ls', '--json'], 20_000, env)).stdout) as { control: string; status: { pid: number } }[];
  assert.deepEqual(json.map((h) => h.status.pid).sort(), [hello.child.pid, express.child.pid].sort());
  assert.deepEqual(json.map((h) => h.control).sort(), [hello.control, express.control].sort());

  const several = await runHerd(['status'], 20_000, env);
  assert.equal(several.code, 1);
  assert.match(several.stderr, /^herd: 2 herds are running: .*pid \d+.*pid \d+.*; say which with --port N or --control PATH\n$/);
  assert.ok(several.stderr.includes(hello.url) && several.stderr.includes(express.url));

  const stop = await runHerd(['stop', '--control', express.control], 20_000, env);
  assert.equal(stop.code, 0, stop.stderr);
  await express.exited;
  const only = await runHerd(['status', '--json'], 20_000, env);
  assert.equal(only.code, 0, only.stderr);
  assert.equal(JSON.parse(only.stdout).pid, hello.child.pid);
  assert.equal((await runHerd(['reload'], 20_000, env)).code, 0);
});

test('a socket left by a killed herd is not listed', { timeout: 30_000 }, async (t) => {
  const env = { ...process.env, XDG_RUNTIME_DIR: tempDir(t) };
  const herd = await startHerd(t, ['--workers', '1'], { env, defaultControl: true });
  process.kill(-herd.child.pid!, 'SIGKILL');
  await herd.exited;
  const ls = await runHerd(['ls'], 20_000, env);
  assert.equal(ls.code, 0);
  assert.match(ls.stdout, /^no herd is running for this user/);
});
