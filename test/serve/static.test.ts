// herd serve --static: files through real workers, alone and in front of an APP.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fixture, runHerd, startHerd, tempDir } from '../support/herd_process.ts';
import { request } from '../support/http_client.ts';

function tree(dir: string): string {
  const root = path.join(dir, 'public');
  fs.mkdirSync(path.join(root, 'assets'), { recursive: true });
  fs.writeFileSync(path.join(root, 'index.html'), '<h1>home</h1>');
  fs.writeFileSync(path.join(root, 'assets', 'app.css'), 'body{}');
  fs.writeFileSync(path.join(root, '.env'), 'SECRET=1');
  return root;
}

test('--static DIR alone: files, index.html, 404, dotfiles hidden, traversal refused', async (t) => {
  const root = tree(tempDir(t));
  const herd = await startHerd(t, ['--static', root, '--workers', '2']);
  assert.match(herd.output(), /serving files of/);
  const home = await request(herd.url, '/');
  assert.equal(home.status, 200);
  assert.equal(home.body, '<h1>home</h1>');
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
  const css = await request(herd.url, '/assets/app.css');
  assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
  assert.equal((await request(herd.url, '/missing')).status, 404);
  assert.equal((await request(herd.url, '/.env')).status, 404);
  assert.ok([400, 404].includes((await request(herd.url, '/../../etc/passwd')).status));
  assert.ok([400, 404].includes((await request(herd.url, '/assets/%2e%2e/%2e%2e/etc/passwd')).status));
});

test('--static DIR --static-prefix /assets in front of an APP: DIR is mounted at /assets, the rest is the app', async (t) => {
  const root = tree(tempDir(t));
  const herd = await startHerd(t, [fixture('pid.js'), '--static', path.join(root, 'assets'), '--static-prefix', '/assets', '--workers', '1']);
  assert.equal((await request(herd.url, '/assets/app.css')).body, 'body{}');
  assert.equal((await request(herd.url, '/assets/nothing.js')).status, 404);
  assert.match((await request(herd.url, '/index.html')).body, /^\d+$/, 'outside the prefix the app answers');
});

test('--static with a missing directory, or --autoindex without --static, is refused', async (t) => {
  const control = `${tempDir(t)}/c.sock`;
  const missing = await runHerd(['serve', '--static', '/no/such/dir', '--port', '0', '--control', control]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /^herd: --static \/no\/such\/dir is not a directory\n$/);
  const stray = await runHerd(['serve', '--autoindex', '--port', '0', '--control', control]);
  assert.equal(stray.code, 2);
  assert.match(stray.stderr, /^herd: --autoindex needs --static DIR\n$/);
});
