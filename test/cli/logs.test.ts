// herd logs: the last lines of the files a running herd writes, and -f across a rotation.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { HERD, startHerd, tempDir } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';

test('herd logs -n prints the last lines; -f follows across a USR1 rotation', { timeout: 60_000 }, async (t) => {
  const dir = tempDir(t);
  const access = path.join(dir, 'access.log');
  const errors = path.join(dir, 'error.log');
  const herd = await startHerd(t, ['--workers', '1', '--access-log', access, '--error-log', errors]);
  for (const p of ['/one', '/two', '/three']) await request(herd.url, p);
  await waitFor('the third access line', () => fs.existsSync(access) && fs.readFileSync(access, 'utf8').includes('/three'));

  const tail = await herd.command('logs', '--access', '-n', '2');
  assert.equal(tail.code, 0, tail.stderr);
  const lines = tail.stdout.trim().split('\n');
  assert.equal(lines.length, 2);
  assert.match(lines[0], /"GET \/two HTTP\/1\.1" 200/);
  assert.match(lines[1], /"GET \/three HTTP\/1\.1" 200/);

  const both = await herd.command('logs', '-n', '1');
  assert.match(both.stdout, new RegExp(`^==> ${access} <==\\n.*GET /three.*\\n==> ${errors} <==\\n.*worker 1 .*started`, 's'));

  const follower = spawn(process.execPath, [HERD, 'logs', '-f', '--access', '-n', '1', '--control', herd.control], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => follower.kill('SIGKILL'));
  let followed = '';
  follower.stdout.on('data', (d) => (followed += d));
  // Its tail (the last line so far) on screen: the file is open and followed from here on.
  await waitFor('the follower to print its tail', () => followed.includes('/three'));
  await request(herd.url, '/before-rotation');
  fs.renameSync(access, `${access}.1`);
  await request(herd.url, '/into-the-renamed-file');
  assert.equal((await herd.command('reopen')).code, 0);
  await request(herd.url, '/after-rotation');
  await waitFor('the line written after the rotation', () => followed.includes('/after-rotation'));
  const seen = [...followed.matchAll(/"GET (\S+) /g)].map((m) => m[1]);
  assert.deepEqual(seen, ['/three', '/before-rotation', '/into-the-renamed-file', '/after-rotation']);
});

test('herd logs says where logs go when there is no file to read', { timeout: 30_000 }, async (t) => {
  const herd = await startHerd(t, ['--workers', '1']);
  const r = await herd.command('logs');
  assert.equal(r.code, 1);
  assert.deepEqual(r.stderr.trim().split('\n'), [
    'herd: the access log is off (herd serve --access-log FILE turns it on)',
    "herd: the error log goes to herd serve's stderr (--error-log -, the default); read it there",
  ]);
  const bad = await herd.command('logs', '-n', 'many');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^herd: -n must be a whole number of lines, not 'many'\n$/);
});
