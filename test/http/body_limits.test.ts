// The fast engine's --body-limit (413 and close; 0: none) and --body-timeout (408 and close, one
// cut line), on the engine over a real socket and through `herd serve --engine fast`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createFastEngine } from '../../src/http/engine.ts';
import type { Handler } from '../../src/http/types.ts';
import type { EngineOptions } from '../../src/worker/engine.ts';
import { exchange, listen, parseResponses, TEST_OPTIONS } from './wire.ts';
import { startHerd } from '../support/herd_process.ts';

/** Reads the whole body, then answers with its length. */
const counting: Handler = async (req, res) => {
  const body = await req.bytes();
  res.end(`got ${body.length}`);
};

async function serve(t: { after(fn: () => void): void }, handler: Handler, extra: Partial<EngineOptions>) {
  const cuts: string[] = [];
  const engine = createFastEngine(handler, { ...TEST_OPTIONS, onCut: (line) => cuts.push(line), ...extra });
  const port = await listen(t as Parameters<typeof listen>[0], engine);
  return { port, cuts };
}

/** Writes `head` and `body`, then nothing more (no FIN): resolves with all the server sent once it closes. */
function stall(port: number, data: string, timeoutMs = 8000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(data));
    let text = '';
    const timer = setTimeout(() => socket.destroy(new Error(`no close within ${timeoutMs} ms; got ${JSON.stringify(text)}`)), timeoutMs);
    socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    socket.once('close', () => {
      clearTimeout(timer);
      resolve(text);
    });
  });
}

test('--body-limit: a declared or chunked body over it is 413 and the connection closes; 0 means no limit', async (t) => {
  const { port } = await serve(t, counting, { bodyLimit: 1000 });
  const over = await exchange(port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n${'x'.repeat(1001)}GET / HTTP/1.1\r\nHost: h\r\n\r\n`, { halfClose: false });
  const overResponses = parseResponses(over);
  assert.deepEqual(overResponses.map((r) => r.status), [413]);
  assert.equal(overResponses[0].headers.connection, 'close');
  const chunked = await exchange(port, `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3e8\r\n${'x'.repeat(1000)}\r\n1\r\nx\r\n0\r\n\r\n`, { halfClose: false });
  assert.deepEqual(parseResponses(chunked).map((r) => r.status), [413]);
  const at = parseResponses(await exchange(port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(1000)}`));
  assert.deepEqual(at.map((r) => [r.status, r.body.toString()]), [[200, 'got 1000']]);

  const unlimited = await serve(t, counting, { bodyLimit: 0 });
  const big = parseResponses(await exchange(unlimited.port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n${'x'.repeat(2_000_000)}`, { timeoutMs: 10_000 }));
  assert.deepEqual(big.map((r) => [r.status, r.body.toString()]), [[200, 'got 2000000']]);
});

test('--body-timeout: a body that stops arriving is 408 and closed, logged once', async (t) => {
  const { port, cuts } = await serve(t, counting, { bodyTimeoutMs: 300 });
  const reply = await stall(port, 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
  const responses = parseResponses(Buffer.from(reply, 'latin1'));
  assert.deepEqual(responses.map((r) => r.status), [408]);
  assert.equal(responses[0].headers.connection, 'close');
  assert.equal(cuts.length, 1, cuts.join('\n'));
  assert.match(cuts[0], /^POST \/up from 127\.0\.0\.1: 408: no request body bytes for [\d.]+ s \(--body-timeout\)$/);
});

test('--body-timeout: an answer already streaming is cut, not replaced; the request timeout waits for the body', async (t) => {
  const streaming: Handler = async (req, res) => {
    res.write('started ');
    const body = await req.bytes();
    res.end(`got ${body.length}`);
  };
  const { port, cuts } = await serve(t, streaming, { bodyTimeoutMs: 300 });
  const reply = await stall(port, 'POST /stream HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
  assert.match(reply, /^HTTP\/1\.1 200 [^]*\r\nstarted \r\n$/);
  assert.equal(cuts.length, 1, cuts.join('\n'));
  assert.match(cuts[0], /^POST \/stream from 127\.0\.0\.1: connection closed: no request body bytes for [\d.]+ s \(--body-timeout\)$/);

  // A body trickling in for longer than --request-timeout, never pausing for --body-timeout: 200.
  const slow = await serve(t, counting, { requestTimeoutMs: 300, bodyTimeoutMs: 2000 });
  const text = await new Promise<string>((resolve, reject) => {
    const socket = net.connect(slow.port, '127.0.0.1');
    let got = '';
    socket.on('data', (d: Buffer) => (got += d.toString('latin1')));
    socket.once('error', reject);
    socket.once('close', () => resolve(got));
    socket.once('connect', async () => {
      socket.write('POST /slow HTTP/1.1\r\nHost: h\r\nConnection: close\r\nContent-Length: 8\r\n\r\n');
      for (let k = 0; k < 8; k++) {
        await new Promise((r) => setTimeout(r, 100));
        socket.write('x');
      }
    });
  });
  assert.match(text, /^HTTP\/1\.1 200 [^]*got 8$/);
  assert.deepEqual(slow.cuts, []);
});

test('herd serve --engine fast: 1 MiB by default, --body-limit and --body-timeout from the command line', async (t) => {
  const [herd, defaults] = await Promise.all([
    startHerd(t, ['--engine', 'fast', '--workers', '1', '--body-limit', '1000', '--body-timeout', '0.5']),
    startHerd(t, ['--engine', 'fast', '--workers', '1']),
  ]);
  const over = await exchange(herd.port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1001\r\n\r\n`, { halfClose: false });
  assert.deepEqual(parseResponses(over).map((r) => r.status), [413]);
  const within = await exchange(herd.port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1000\r\n\r\n${'x'.repeat(1000)}`);
  assert.deepEqual(parseResponses(within).map((r) => r.status), [200]);
  // The built-in app answers without reading the body; the rest of it never comes: closed, and said so.
  const stalled = await stall(herd.port, 'POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\nabc');
  assert.match(stalled, /^HTTP\/1\.1 200 [^]*Hello, World!$/);
  // The worker's line reaches herd's output through the supervisor, after the close: wait for it (bounded).
  const cutLine = /herd cut a response: POST \/up from 127\.0\.0\.1: connection closed: no request body bytes for [\d.]+ s \(--body-timeout\)/;
  for (let waited = 0; !cutLine.test(herd.output()) && waited < 5000; waited += 50) await new Promise((r) => setTimeout(r, 50));
  assert.match(herd.output(), cutLine);

  const mib = 1024 * 1024;
  assert.deepEqual(parseResponses(await exchange(defaults.port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${mib + 1}\r\n\r\n`, { halfClose: false })).map((r) => r.status), [413]);
  assert.deepEqual(parseResponses(await exchange(defaults.port, `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${mib}\r\n\r\n${'x'.repeat(mib)}`, { timeoutMs: 10_000 })).map((r) => r.status), [200]);
});
