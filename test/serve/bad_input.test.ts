// Bad input gets one clear line and a non-zero exit, with nothing left running; a bad request
// handler gets a 500 (or a 503 when it never answers) and the worker lives on.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { test } from 'node:test';
import { fixture, HERD, runHerd, startHerd, tempDir } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';

/** Runs herd serve expecting it to refuse: one `herd: ...` line on stderr, the given exit code. */
async function refuses(args: string[], code: number, message: RegExp) {
  const r = await runHerd(['serve', '--host', '127.0.0.1', ...args]);
  assert.equal(r.code, code, `exit code; stderr: ${r.stderr}`);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0], /^herd: /);
  assert.match(lines[0], message);
  assert.equal(r.stdout.includes('serving'), false, 'nothing was served');
}

test('port in use', async (t) => {
  const blocker = net.createServer();
  await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
  t.after(() => blocker.close());
  const port = String((blocker.address() as net.AddressInfo).port);
  for (const dispatch of ['reuseport', 'shared', 'handoff']) {
    await refuses(['--port', port, '--dispatch', dispatch, '--control', `${tempDir(t)}/c.sock`], 1, /port \d+ is already in use on 127\.0\.0\.1/);
  }
});

test('permission denied on a privileged port', async (t) => {
  const unprivilegedStart = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  if (unprivilegedStart <= 80) {
    t.skip(`net.ipv4.ip_unprivileged_port_start is ${unprivilegedStart}: port 80 is not privileged here`);
    return;
  }
  const dir = tempDir(t);
  // As root, drop only the capability to bind low ports (from the bounding set, so the exec'd process
  // never has it): binding port 80 is refused as for any user, while the checkout, wherever it lives
  // and whoever may read it, stays readable.
  const cmd = process.getuid?.() === 0 ? ['setpriv', '--bounding-set=-net_bind_service', process.execPath] : [process.execPath];
  const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(cmd[0], [...cmd.slice(1), HERD, 'serve', '--host', '127.0.0.1', '--port', '80', '--workers', '1', '--control', `${dir}/c.sock`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', () => resolve({ code: null, stderr: 'spawn failed' }));
    child.on('close', (code) => resolve({ code, stderr })); // after the last of stderr, unlike 'exit'
  });
  if (r.stderr === 'spawn failed') {
    t.skip('setpriv (util-linux) is not installed');
    return;
  }
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr.trim(), /^herd: permission denied to listen on 127\.0\.0\.1:80 \(EACCES\)[^\n]*$/);
});

test('unknown flag, bad values, too many apps', async () => {
  await refuses(['--frobnicate'], 2, /unknown option '--frobnicate'/);
  await refuses(['--port', 'http'], 2, /--port must be a port number from 0 to 65535, not 'http'/);
  await refuses(['--port', '70000'], 2, /--port must be a port number/);
  await refuses(['--workers', '0'], 2, /--workers must be 'auto' or a whole number/);
  await refuses(['--dispatch', 'magic'], 2, /--dispatch must be one of reuseport, shared, handoff, not 'magic'/);
  await refuses(['--engine', 'turbo'], 2, /--engine must be one of fast, node/);
  await refuses(['--grace', 'soon'], 2, /--grace must be a number of seconds/);
  // A timer holds 2^31-1 ms; more used to fire after 1 ms.
  for (const flag of ['--request-timeout', '--idle-timeout', '--body-timeout', '--grace']) {
    await refuses([flag, '3000000'], 2, new RegExp(`${flag} 3000000 is too long: at most 2147483 seconds \\(0 turns it off\\)`));
  }
  await refuses(['--handoff', 'random'], 2, /--handoff must be one of rr, least, sticky/);
  await refuses(['a.js', 'b.js'], 2, /takes one APP/);
  const r = await runHerd(['frobnicate']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^herd: unknown command 'frobnicate'/);
});

test('APP missing, throwing on import, without a usable default export', async (t) => {
  const control = `${tempDir(t)}/c.sock`;
  const common = ['--port', '0', '--workers', '2', '--control', control];
  await refuses(['no/such/app.js', ...common], 1, /APP no\/such\/app\.js not found/);
  await refuses([fixture('throws_on_import.js'), ...common], 1, /APP .*throws_on_import\.js threw while loading: Error: cannot connect to the database/);
  await refuses([fixture('no_default.js'), ...common, '--start-timeout', '3'], 1, /APP .*no_default\.js did not call listen\(\) and has no default export within 3 s \(--start-timeout\); start a server with app\.listen\(process\.env\.PORT\)/);
  await refuses([fixture('default_not_function.js'), ...common], 1, /default export is an object, not a request listener/);
});

test('herd status without a running herd', async (t) => {
  const r = await runHerd(['status', '--control', `${tempDir(t)}/none.sock`]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^herd: no herd is running with control socket/);
});

test('a handler that throws or rejects gets a 500, and the worker lives on', async (t) => {
  const herd = await startHerd(t, [fixture('faulty.js'), '--workers', '1']);
  const pid = (await request(herd.url, '/')).body;
  assert.equal((await request(herd.url, '/throw')).status, 500);
  assert.equal((await request(herd.url, '/reject')).status, 500);
  assert.equal((await request(herd.url, '/')).body, pid, 'the same worker still serves');
  // The worker's stderr reaches us through the supervisor, possibly after the 500 did.
  await waitFor('the handler error in the output', () => /request handler failed: Error: handler exploded/.test(herd.output()));
});

test('a handler that never answers is bounded by --request-timeout (503, connection closed)', async (t) => {
  const herd = await startHerd(t, [fixture('faulty.js'), '--workers', '1', '--request-timeout', '0.5']);
  const reply = await request(herd.url, '/hang', 10_000);
  assert.equal(reply.status, 503);
  assert.equal(reply.headers.connection, 'close');
});
