// The node engine refuses what node:http lets through (a second Host, HTTP/1.0 with
// Transfer-Encoding), honours --body-limit when given and --body-timeout, on a real socket.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { createNodeEngine } from '../../src/worker/node_engine.ts';
import type { EngineOptions } from '../../src/worker/engine.ts';

async function serve(t: TestContext, extra: Partial<EngineOptions> = {}) {
  const cuts: string[] = [];
  const engine = createNodeEngine(
    (req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => res.end(`got ${bytes}`));
    },
    { requestTimeoutMs: 5000, headersTimeoutMs: 5000, keepAliveTimeoutMs: 5000, maxConnections: 0, bodyLimit: 0, onCut: (l) => cuts.push(l), ...extra },
  );
  await new Promise<void>((r) => engine.server.listen(0, '127.0.0.1', r));
  t.after(() => {
    engine.destroyAll();
    engine.server.close();
  });
  return { port: (engine.server.address() as net.AddressInfo).port, cuts };
}

/** Writes `bytes`, optionally more after `laterMs`, and returns all the server sent before closing. */
function raw(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let text = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error(`no close; got ${JSON.stringify(text)}`)));
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.once('error', reject);
    socket.once('close', () => resolve(text));
  });
}

test('a second Host header is 400', async (t) => {
  const { port } = await serve(t);
  assert.match(await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n'), /^HTTP\/1\.1 200 [^]*got 0$/);
});

test('HTTP/1.0 with Transfer-Encoding is 400', async (t) => {
  const { port } = await serve(t);
  assert.match(await raw(port, 'POST / HTTP/1.0\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'), /^HTTP\/1\.1 400 /);
  assert.match(await raw(port, 'POST / HTTP/1.0\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc'), /^HTTP\/1\.1 200 [^]*got 3$/);
});

test('--body-limit: none by default; a declared body over it is 413 when given', async (t) => {
  const unlimited = await serve(t);
  assert.match(await raw(unlimited.port, `POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 2000000\r\n\r\n${'x'.repeat(2_000_000)}`), /got 2000000$/);
  const limited = await serve(t, { bodyLimit: 1000 });
  assert.match(await raw(limited.port, `POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1001\r\n\r\n${'x'.repeat(1001)}`), /^HTTP\/1\.1 413 /);
  assert.match(await raw(limited.port, `POST / HTTP/1.1\r\nHost: a\r\nConnection: close\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(1000)}`), /got 1000$/);
});

test('--body-timeout: a body that stops arriving is 408, logged once', async (t) => {
  const { port, cuts } = await serve(t, { bodyTimeoutMs: 300 });
  const reply = await raw(port, 'POST /up HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\nabc');
  assert.match(reply, /^HTTP\/1\.1 408 /);
  assert.equal(cuts.length, 1);
  assert.match(cuts[0], /^POST \/up from 127\.0\.0\.1: 408: no request body bytes for [\d.]+ s \(--body-timeout\)$/);
});
