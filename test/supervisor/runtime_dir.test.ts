// The private runtime directory and what herd writes there: refused when anyone else could reach it,
// sockets 0600 whatever the umask, and a pid file never written through a symlink.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { ensurePrivateDir, runtimeDirPath, writePidFile } from '../../src/supervisor/runtime_dir.ts';
import { HERD, runHerd, tempDir } from '../support/herd_process.ts';

test('the runtime directory is $XDG_RUNTIME_DIR/herd, else a per-user directory in the temp dir', () => {
  assert.equal(runtimeDirPath({ XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/herd');
  assert.match(runtimeDirPath({}), new RegExp(`/herd-${process.getuid!()}$`));
});

test('a new runtime directory is 0700; one others can reach, a symlink or a file is refused', (t) => {
  const base = tempDir(t);
  const dir = path.join(base, 'herd');
  ensurePrivateDir(dir);
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  ensurePrivateDir(dir); // an existing private one is fine

  fs.chmodSync(dir, 0o755);
  assert.throws(() => ensurePrivateDir(dir), /runtime directory .*herd has mode 755: others may reach it \(want 700\)/);
  fs.rmSync(dir, { recursive: true });
  fs.symlinkSync(base, dir);
  assert.throws(() => ensurePrivateDir(dir), /is a symbolic link/);
  fs.rmSync(dir);
  fs.writeFileSync(dir, '');
  assert.throws(() => ensurePrivateDir(dir), /is not a directory/);
});

test("a runtime directory squatted by another user is refused", (t) => {
  if (process.getuid!() !== 0) return t.skip('needs root to create a directory owned by someone else');
  const dir = path.join(tempDir(t), 'herd');
  fs.mkdirSync(dir, { mode: 0o700 });
  fs.chownSync(dir, 65534, 65534);
  assert.throws(() => ensurePrivateDir(dir), /belongs to uid 65534, not to you \(uid 0\)/);
});

test('the pid file is not written through a symlink', (t) => {
  const dir = tempDir(t);
  const victim = path.join(dir, 'victim');
  fs.writeFileSync(victim, 'precious\n');
  fs.symlinkSync(victim, path.join(dir, 'herd.pid'));
  assert.throws(() => writePidFile(path.join(dir, 'herd.pid')), /--pid-file .*herd\.pid is a symbolic link; herd does not write through it/);
  assert.equal(fs.readFileSync(victim, 'utf8'), 'precious\n');
  writePidFile(path.join(dir, 'real.pid'));
  assert.equal(fs.readFileSync(path.join(dir, 'real.pid'), 'utf8'), `${process.pid}\n`);
});

test('under umask 000 the control and logd sockets are still 0600, in a 0700 directory', { timeout: 30_000 }, async (t) => {
  const xdg = tempDir(t);
  // umask is per process: the shell sets it for herd alone.
  const child = spawn('sh', ['-c', `umask 000; exec "$0" "$@"`, process.execPath, HERD, 'serve', '--host', '127.0.0.1', '--port', '0', '--workers', '1', '--access-log', path.join(xdg, 'access.log')],
    { env: { ...process.env, XDG_RUNTIME_DIR: xdg }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
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
  const dir = path.join(xdg, 'herd');
  const control = path.join(dir, `herd-pid${child.pid}.sock`);
  for (let i = 0; i < 200 && !/serving/.test(output); i++) await new Promise((r) => setTimeout(r, 50));
  assert.match(output, /serving/);
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
  assert.equal(fs.statSync(control).mode & 0o777, 0o600);
  assert.equal(fs.statSync(`${control}.logd`).mode & 0o777, 0o600);
  const stop = await runHerd(['stop', '--control', control]);
  assert.equal(stop.code, 0, stop.stderr);
});

test('herd serve refuses a runtime directory others can reach, in one line', async (t) => {
  const xdg = tempDir(t);
  fs.mkdirSync(path.join(xdg, 'herd'), { mode: 0o777 });
  fs.chmodSync(path.join(xdg, 'herd'), 0o777);
  const r = await runHerd(['serve', '--host', '127.0.0.1', '--port', '0', '--workers', '1'], 20_000, { ...process.env, XDG_RUNTIME_DIR: xdg });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^herd: the runtime directory \S+ has mode 777: others may reach it \(want 700\); remove it, or set XDG_RUNTIME_DIR or --control elsewhere\n$/);
});
