// 'upgrade' reaches the app's own server in every dispatch mode: a real `ws` echo server. During a
// drain an open WebSocket keeps working for the grace period, then herd closes it and exits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import WebSocket from 'ws';
import { fixture, startHerd } from '../support/herd_process.ts';
import { request } from '../support/http_client.ts';

function open(url: string): Promise<{ ws: WebSocket; next(): Promise<string> }> {
  const ws = new WebSocket(url.replace('http:', 'ws:'));
  const inbox: string[] = [];
  const waiters: ((m: string) => void)[] = [];
  ws.on('message', (data) => {
    const m = String(data);
    const w = waiters.shift();
    if (w) w(m);
    else inbox.push(m);
  });
  const next = () => (inbox.length ? Promise.resolve(inbox.shift()!) : new Promise<string>((r) => waiters.push(r)));
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, next }));
    ws.once('error', reject);
  });
}

for (const dispatch of ['reuseport', 'shared', 'handoff'] as const) {
  test(`${dispatch}: a ws echo server on the app's 'upgrade' works, and plain HTTP beside it`, async (t) => {
    const herd = await startHerd(t, [fixture('ws_echo.js'), '--workers', '2', '--dispatch', dispatch]);
    for (let i = 0; i < 4; i++) {
      const { ws, next } = await open(herd.url);
      assert.match(await next(), /^hello from \d+$/);
      ws.send(`ping ${i}`);
      assert.equal(await next(), `echo ping ${i}`);
      ws.close();
    }
    assert.equal((await request(herd.url, '/')).body, 'plain http');
  });
}

test('during a drain an open WebSocket gets the grace period, then is closed', async (t) => {
  const herd = await startHerd(t, [fixture('ws_echo.js'), '--workers', '1', '--grace', '3']);
  const { ws, next } = await open(herd.url);
  await next();
  const closed = new Promise<number>((r) => ws.once('close', () => r(Date.now())));
  const stopAt = Date.now();
  herd.child.kill('SIGTERM');
  // Draining: the socket still carries messages.
  await new Promise((r) => setTimeout(r, 500));
  ws.send('still there');
  assert.equal(await next(), 'echo still there');
  const closedAt = await closed;
  assert.ok(closedAt - stopAt >= 500, 'not closed at the start of the drain');
  assert.equal(await herd.exited, 0, herd.output());
  assert.doesNotMatch(herd.output(), /SIGKILL|signal/);
});
