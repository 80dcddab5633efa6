// Every byte is judged as it arrives: a connection whose input can no longer become a valid request
// is answered and closed at once, not when the head timeout fires. The head timeout here is 30 s and
// each exchange may take 4 s at most, so only an answer given on the bad byte itself passes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createFastEngine } from '../../src/http/engine.ts';
import portableApp from './fixtures/portable_app.ts';
import { INVALID_PREFIXES } from './corpus.ts';
import { exchange, listen, parseResponses, quietErrors, TEST_OPTIONS } from './wire.ts';

test('each invalid prefix alone gets its status and a close without waiting for the head timeout', async (t) => {
  quietErrors(t);
  const engine = createFastEngine(portableApp, { ...TEST_OPTIONS, headersTimeoutMs: 30_000, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 30_000 });
  const port = await listen(t, engine);
  // All at once: each connection sends its prefix, keeps its side open, and waits for the server to close.
  const replies = await Promise.all(
    INVALID_PREFIXES.map(async (c) => {
      const reply = await exchange(port, c.raw, { halfClose: false, timeoutMs: 4000 }).catch((error: Error) => error);
      return { c, reply };
    }),
  );
  for (const { c, reply } of replies) {
    assert.ok(Buffer.isBuffer(reply), `${c.name}: ${reply instanceof Error ? reply.message : ''}`);
    const responses = parseResponses(reply as Buffer, ['POST']).filter((r) => r.status >= 200);
    assert.deepEqual(responses.map((r) => r.status), [c.status], c.name);
    assert.equal(responses[0].headers.connection, 'close', c.name);
  }
});
