import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFastEngine } from '../../src/http/engine.ts';
import type { Handler } from '../../src/http/types.ts';
import { Client, listen, TEST_OPTIONS } from './wire.ts';

const hello: Handler = (_req, res) => void res.end('Hello, World!');

test('slowloris: trickling connections neither block a normal client nor stay past the headers timeout', async (t) => {
  const engine = createFastEngine(hello, { ...TEST_OPTIONS, headersTimeoutMs: 1500 });
  const port = await listen(t, engine);

  const trickling: Client[] = [];
  for (let k = 0; k < 40; k++) trickling.push(await Client.connect(port));
  t.after(() => trickling.forEach((c) => c.close()));
  const head = 'GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ' + 'a'.repeat(1000);
  let sent = 0;
  const drip = setInterval(() => {
    for (const c of trickling) if (!c.closed) c.send(head[sent % head.length]);
    sent++;
  }, 50);
  t.after(() => clearInterval(drip));

  const normal = await Client.connect(port);
  t.after(() => normal.close());
  for (let k = 0; k < 20; k++) {
    normal.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    const [r] = await normal.responses(1);
    assert.equal(r.status, 200);
  }
  // The normal client was served while every slow connection was still open and trickling.
  assert.equal(trickling.filter((c) => c.closed).length, 0);

  for (const c of trickling) {
    const replies = await c.responses(1);
    assert.deepEqual(replies.map((r) => r.status), [408]);
    await c.closedByServer();
  }
  clearInterval(drip);
  // Only the normal client is left once the server has seen each slow client's own close.
  while (engine.connections() > 1) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(engine.connections(), 1);
});
