// An APP that starts its own server runs unchanged: herd takes over its listen() in every worker,
// in every dispatch mode, and counts what it serves. Real Express, Fastify and Koa from npm.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { fixture, runHerd, startHerd, status, tempDir } from '../support/herd_process.ts';
import { request } from '../support/http_client.ts';

const DISPATCHES = ['reuseport', 'shared', 'handoff'] as const;
const APPS = [
  ['express_listen.js', 'express'],
  ['express_create_server.js', 'express'],
  ['fastify_listen.js', 'fastify'],
  ['koa_listen.js', 'koa'],
] as const;

for (const dispatch of DISPATCHES) {
  test(`${dispatch}: Express app.listen, http.createServer(app).listen, fastify.listen and Koa run unchanged`, async (t) => {
    for (const [app, framework] of APPS) {
      const herd = await startHerd(t, [fixture(app), '--workers', '2', '--dispatch', dispatch]);
      const replies = await Promise.all(Array.from({ length: 12 }, () => request(herd.url, '/')));
      for (const reply of replies) {
        assert.equal(reply.status, 200, `${app}: ${reply.body}`);
        const body = JSON.parse(reply.body);
        assert.equal(body.framework, framework);
        // address() answers the port herd serves, in handoff too where the app's server never listens.
        assert.equal(body.address.port, herd.port, `${app}: address() ${JSON.stringify(body.address)}`);
        assert.equal(body.address.address, '127.0.0.1');
        if (app === 'express_create_server.js') assert.equal(body.listened, true, 'the listen() callback ran');
      }
      const s = await status(herd);
      assert.equal(s.requests, 12, `${app}: herd status counts the app's own server's requests`);
      assert.equal(s.workers.length, 2);
      herd.child.kill('SIGTERM');
      assert.equal(await herd.exited, 0, herd.output());
    }
  });
}

/** A port nobody listens on right now. */
async function freePort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((r) => probe.close(() => r()));
  return port;
}

for (const dispatch of DISPATCHES) {
  test(`${dispatch}: a second port (an admin server) is served by every worker`, async (t) => {
    const adminPort = await freePort();
    process.env.ADMIN_PORT = String(adminPort);
    t.after(() => delete process.env.ADMIN_PORT);
    const herd = await startHerd(t, [fixture('admin_port.js'), '--workers', '2', '--dispatch', dispatch]);
    assert.doesNotMatch(herd.output(), /EADDRINUSE|already in use/);
    const admin = `http://127.0.0.1:${adminPort}`;
    const pids = new Set<number>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      const replies = await Promise.all(Array.from({ length: 4 }, () => request(admin, '/')));
      for (const r of replies) {
        const body = JSON.parse(r.body);
        assert.equal(body.address.port, adminPort);
        pids.add(body.pid);
      }
    }
    if (dispatch !== 'shared') assert.equal(pids.size, 2, 'both workers serve the admin port');
    assert.match((await request(herd.url, '/')).body, /^main \d+$/);
    const s = await status(herd);
    for (const w of s.workers) assert.ok(w.pid > 0);
  });
}

test('PORT is the port herd serves; --port defaults from PORT', async (t) => {
  const port = await freePort();
  process.env.PORT = String(port);
  t.after(() => delete process.env.PORT);
  const dir = tempDir(t);
  // startHerd passes --port 0; run this one by hand, without --port.
  const { spawn } = await import('node:child_process');
  const { HERD } = await import('../support/herd_process.ts');
  const child = spawn(process.execPath, [HERD, 'serve', fixture('express_listen.js'), '--host', '127.0.0.1', '--workers', '1', '--control', `${dir}/c.sock`], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {}
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(output)), 20_000);
    child.stdout.on('data', () => output.includes('serving') && (clearTimeout(timer), resolve()));
  });
  assert.match(output, new RegExp(`on http://127\\.0\\.0\\.1:${port} `));
  const body = JSON.parse((await request(`http://127.0.0.1:${port}`, '/')).body);
  assert.equal(body.address.port, port);
});

test('an APP that neither listens nor exports a listener gets one line', async (t) => {
  const r = await runHerd(['serve', fixture('listens_nowhere.js'), '--host', '127.0.0.1', '--port', '0', '--workers', '2', '--start-timeout', '3', '--control', `${tempDir(t)}/c.sock`]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^herd: APP .*listens_nowhere\.js did not call listen\(\) and has no default export within 3 s/);
});

test('a default-export Express app still runs; on --engine fast it fails at start-up naming --engine node', async (t) => {
  const herd = await startHerd(t, [fixture('express_app.js'), '--workers', '1']);
  assert.equal((await request(herd.url)).body, 'hello from express');
  const r = await runHerd(['serve', fixture('express_app.js'), '--host', '127.0.0.1', '--port', '0', '--workers', '1', '--engine', 'fast', '--control', `${tempDir(t)}/c.sock`]);
  assert.equal(r.code, 1);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /^herd: APP .*express_app\.js is an Express app, .*--engine node/);
});

test('an APP that calls listen() runs on node:http under --engine fast, with one line naming --engine node', async (t) => {
  const herd = await startHerd(t, [fixture('express_listen.js'), '--workers', '2', '--engine', 'fast']);
  const body = JSON.parse((await request(herd.url)).body);
  assert.equal(body.framework, 'express');
  const lines = herd.output().split('\n').filter((l) => l.includes('--engine node'));
  assert.equal(lines.length, 1, herd.output());
  assert.match(lines[0], /runs on node:http/);
});

test("an APP's second port already in use: one line naming the APP's listen() and the port", async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const busy = (blocker.address() as net.AddressInfo).port;
  process.env.ADMIN_PORT = String(busy);
  t.after(() => delete process.env.ADMIN_PORT);
  const r = await runHerd(['serve', fixture('admin_port.js'), '--host', '127.0.0.1', '--port', '0', '--workers', '1', '--control', `${tempDir(t)}/c.sock`], 30_000);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`crash loop: .*the APP's listen\\(\\) on 127\\.0\\.0\\.1:${busy}: port ${busy} is already in use on 127\\.0\\.0\\.1 \\(EADDRINUSE\\); stop the other server or change the port the APP listens on`));
});

test("an app's own server is in the access log, with the status it sent", async (t) => {
  const log = `${tempDir(t)}/access.log`;
  const herd = await startHerd(t, [fixture('express_listen.js'), '--workers', '2', '--dispatch', 'handoff', '--access-log', log]);
  for (const path of ['/', '/nowhere', '/']) await request(herd.url, path);
  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0, herd.output());
  const fs = await import('node:fs');
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
  // Two workers write their own lines: the order between them is not the order of the requests.
  assert.deepEqual(lines.map((l) => /"GET (\S+) HTTP\/1\.1" (\d+)/.exec(l)?.slice(1).join(' ')).sort(), ['/ 200', '/ 200', '/nowhere 404']);
});
