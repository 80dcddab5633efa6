import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFastEngine } from '../../src/http/engine.ts';
import portableApp from './fixtures/portable_app.ts';
import { fuzz } from './fuzz.ts';
import { exchange, listen, parseResponses, TEST_OPTIONS } from './wire.ts';

test('2000 mutated requests: no crash, every reply valid HTTP, and the server still serves', async (t) => {
  const errors: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void errors.push(args.join(' '));
  t.after(() => (console.error = original));
  const engine = createFastEngine(portableApp, { ...TEST_OPTIONS, headersTimeoutMs: 2000, requestTimeoutMs: 2000 });
  const port = await listen(t, engine);

  const report = await fuzz(port, 2000, 20261125);
  assert.equal(report.sent, 2000);
  assert.deepEqual(report.hung, []);
  assert.deepEqual(report.invalid, []);
  // The mix really exercised both sides: accepted requests and refused ones.
  assert.ok((report.statuses.get(200) ?? 0) > 100, JSON.stringify([...report.statuses]));
  assert.ok((report.statuses.get(400) ?? 0) > 100, JSON.stringify([...report.statuses]));
  assert.deepEqual(errors, []); // the portable app never fails, so the engine never reported a handler error

  const [r] = parseResponses(await exchange(port, 'GET /hello HTTP/1.1\r\nHost: h\r\n\r\n'));
  assert.equal(r.status, 200);
  assert.equal(r.body.toString(), 'Hello, World!');
});
