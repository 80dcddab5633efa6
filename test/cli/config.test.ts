// herd config: the effective configuration and each value's source; herd serve really runs with it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { HERD, startHerd, tempDir } from '../support/herd_process.ts';
import { request } from '../support/http_client.ts';
import { spawn } from 'node:child_process';

function herdIn(cwd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [HERD, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

test('herd config prints each option with its value and source', async (t) => {
  const dir = tempDir(t);
  fs.writeFileSync(path.join(dir, 'herd.config.json'), JSON.stringify({ grace: 7, 'access-log': '-' }));
  const env = { ...process.env, HERD_REQUEST_ID: 'true', WEB_CONCURRENCY: '3' };
  const r = await herdIn(dir, ['config', '--port', '9001', '--json'], env);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.file, path.join(dir, 'herd.config.json'));
  assert.deepEqual(out.options.port, { value: '9001', source: 'flag --port', env: 'HERD_PORT or PORT' });
  assert.deepEqual(out.options.workers, { value: '3', source: 'environment WEB_CONCURRENCY', env: 'HERD_WORKERS or WEB_CONCURRENCY' });
  assert.equal(out.options['request-id'].source, 'environment HERD_REQUEST_ID');
  assert.deepEqual([out.options.grace.value, out.options.grace.source], ['7', path.join(dir, 'herd.config.json')]);
  assert.deepEqual([out.options['keep-alive-timeout'].value, out.options['keep-alive-timeout'].source], ['5', 'default']);
  const text = await herdIn(dir, ['config'], env);
  assert.match(text.stdout, /^grace +7 +\/.*herd\.config\.json$/m);
  // Errors are serve's errors.
  const bad = await herdIn(dir, ['config', '--workers', 'x'], env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /^herd: --workers must be/);
});

test('herd serve runs with herd.config.json from its working directory', async (t) => {
  const dir = tempDir(t);
  fs.mkdirSync(path.join(dir, 'public'));
  fs.writeFileSync(path.join(dir, 'public', 'hi.txt'), 'from the file config\n');
  fs.writeFileSync(path.join(dir, 'herd.config.json'), JSON.stringify({ workers: 1, static: 'public', 'request-id': true }));
  const herd = await startHerd(t, [], { cwd: dir });
  assert.match(herd.output(), /with 1 worker /);
  const reply = await request(herd.url, '/hi.txt');
  assert.equal(reply.body, 'from the file config\n');
  assert.ok(reply.headers['x-request-id']);
  const bad = await herdIn(dir, ['serve', '--config', 'nope.json'], process.env);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /nope\.json: no such file/);
});
