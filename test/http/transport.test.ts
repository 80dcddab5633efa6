// The fast engine on libuv handles (src/uv/stream_handle.ts): both ways in (listen, including on a
// listening handle as shared dispatch does, and a net.Socket emitted by handoff), the one read
// buffer shared by every connection, asynchronous writes and backpressure, and how it closes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createFastEngine } from '../../src/http/engine.ts';
import type { Handler } from '../../src/http/types.ts';
import { Client, exchange, listen, parseResponses, TEST_OPTIONS } from './wire.ts';

const hello: Handler = (_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello, World!');
};

function listening(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

/** Resolves when the socket closes; `reset` tells whether it ended with an error (ECONNRESET). */
function outcome(socket: net.Socket): Promise<{ data: Buffer; reset: boolean }> {
  const chunks: Buffer[] = [];
  let reset = false;
  socket.on('data', (d: Buffer) => chunks.push(d));
  socket.on('error', () => (reset = true));
  socket.on('end', () => socket.end());
  return new Promise((resolve) => socket.on('close', () => resolve({ data: Buffer.concat(chunks), reset })));
}

test('shared dispatch: listening on another server\'s listening handle serves from the engine', async (t) => {
  const front = net.createServer();
  t.after(() => front.close());
  await listening(front);
  const engine = createFastEngine(hello, TEST_OPTIONS);
  t.after(() => (engine.destroyAll(), engine.server.close()));
  // What the worker does with the listening socket the supervisor sends.
  await new Promise<void>((resolve) => engine.server.listen(front, resolve));
  const port = (engine.server.address() as net.AddressInfo).port;
  const client = await Client.connect(port);
  t.after(() => client.close());
  client.send('GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n');
  const responses = await client.responses(2);
  assert.deepEqual(responses.map((r) => r.body.toString()), ['Hello, World!', 'Hello, World!']);
  assert.equal(engine.connections(), 1);
  assert.equal(engine.requests(), 2);
});

test('handoff: the handed-over socket emits close when the engine is done with the connection', { timeout: 10_000 }, async (t) => {
  const engine = createFastEngine(hello, TEST_OPTIONS);
  t.after(() => engine.destroyAll());
  let handedClosed: Promise<void> | undefined;
  const front = net.createServer({ pauseOnConnect: true }, (socket) => {
    handedClosed = new Promise((resolve) => socket.once('close', () => resolve()));
    engine.server.emit('connection', socket);
  });
  t.after(() => front.close());
  const port = await listening(front);
  const client = await Client.connect(port);
  t.after(() => client.close());
  client.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal((await client.responses(1))[0].status, 200);
  assert.equal(engine.connections(), 1);
  client.send('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  assert.equal((await client.responses(1))[0].headers.connection, 'close');
  await client.closedByServer();
  await handedClosed;
  assert.equal(engine.connections(), 0);
});

test('handoff: bytes the socket read before it was handed over are not lost', async (t) => {
  const engine = createFastEngine((req, res) => void res.end(req.url), TEST_OPTIONS);
  t.after(() => engine.destroyAll());
  const front = net.createServer((socket) => {
    // Let the socket read (and buffer) the first request, then hand it over.
    socket.once('readable', () => engine.server.emit('connection', socket));
  });
  t.after(() => front.close());
  const port = await listening(front);
  const client = await Client.connect(port);
  t.after(() => client.close());
  client.send('GET /first HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal((await client.responses(1))[0].body.toString(), '/first');
  client.send('GET /second HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal((await client.responses(1))[0].body.toString(), '/second');
});

test('heads and bodies outlive the shared read buffer: other connections\' reads do not overwrite them', async (t) => {
  let lateWaiting!: () => void;
  const lateIsWaiting = new Promise<void>((resolve) => (lateWaiting = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const engine = createFastEngine(async (req, res) => {
    if (req.url === '/late') {
      // Read the headers and body only once another connection's request has been read.
      lateWaiting();
      await released;
      const body = await req.text();
      res.end(`${req.url} ${String(req.headers['x-id'])} ${String(req.headers['user-agent'])} ${body}`);
      return;
    }
    res.end('other');
    release();
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const slow = await Client.connect(port);
  const other = await Client.connect(port);
  t.after(() => (slow.close(), other.close()));
  slow.send('POST /late HTTP/1.1\r\nHost: h\r\nX-Id: one\r\nUser-Agent: first-agent\r\nContent-Length: 10\r\n\r\nbody-');
  await lateIsWaiting; // its head and first body bytes are read
  slow.send('one!!');
  // Same layout, other bytes: a head or body still pointing into the read buffer would now read these.
  other.send('POST /zzzz HTTP/1.1\r\nHost: h\r\nX-Id: two\r\nUser-Agent: other-agent\r\nContent-Length: 10\r\n\r\nZZZZZZZZZZ');
  assert.equal((await other.responses(1))[0].body.toString(), 'other');
  assert.equal((await slow.responses(1))[0].body.toString(), '/late one first-agent body-one!!');
});

test('a head split across reads, interleaved with another connection\'s reads, is parsed whole', async (t) => {
  const engine = createFastEngine((req, res) => void res.end(`${req.url} ${String(req.headers["x-long"])}`), TEST_OPTIONS);
  const port = await listen(t, engine);
  const split = await Client.connect(port);
  const other = await Client.connect(port);
  t.after(() => (split.close(), other.close()));
  const value = 'v'.repeat(300);
  const request = `GET /split HTTP/1.1\r\nHost: h\r\nX-Long: ${value}\r\n\r\n`;
  for (let k = 0; k < request.length; k += 100) {
    split.send(request.slice(k, k + 100));
    other.send(`GET /${'o'.repeat(90)} HTTP/1.1\r\nHost: h\r\nX-Long: ${'o'.repeat(100)}\r\n\r\n`);
    await other.responses(1);
  }
  assert.equal((await split.responses(1))[0].body.toString(), `/split ${value}`);
});

test('a large response to a slow reader: write returns false, drain follows, every byte arrives in order', async (t) => {
  const chunkSize = 64 * 1024;
  const chunks = 128; // 8 MiB: more than the kernel buffers of a reader that does not read
  const engine = createFastEngine(async (_req, res) => {
    res.setHeader('Content-Length', chunkSize * chunks);
    for (let k = 0; k < chunks; k++) {
      if (!res.write(Buffer.alloc(chunkSize, k % 251))) await new Promise<void>((resolve) => res.once('drain', resolve));
    }
    res.end();
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const socket = net.connect(port, '127.0.0.1');
  t.after(() => socket.destroy());
  const done = outcome(socket);
  socket.write('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
  socket.pause(); // let the server's writes back up before reading anything
  await new Promise((r) => setTimeout(r, 100));
  socket.resume();
  const { data, reset } = await done;
  assert.equal(reset, false);
  const [r] = parseResponses(data);
  assert.equal(r.body.length, chunkSize * chunks);
  for (let k = 0; k < chunks; k++) {
    const part = r.body.subarray(k * chunkSize, (k + 1) * chunkSize);
    assert.ok(part.every((b) => b === k % 251), `chunk ${k} intact and in order`);
  }
});

test('Connection: close: the answer arrives whole and the server closes without a reset', async (t) => {
  const port = await listen(t, createFastEngine(hello, TEST_OPTIONS));
  for (let k = 0; k < 20; k++) {
    const socket = net.connect(port, '127.0.0.1');
    const done = outcome(socket);
    socket.write('GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n');
    const { data, reset } = await done;
    assert.equal(reset, false);
    assert.deepEqual(parseResponses(data).map((r) => r.body.toString()), ['Hello, World!']);
  }
});

test('Connection: close followed by more bytes: the answer still arrives (the server lingers, no reset)', async (t) => {
  const port = await listen(t, createFastEngine(hello, TEST_OPTIONS));
  const socket = net.connect(port, '127.0.0.1');
  const done = outcome(socket);
  // More than one read takes: closing with bytes unread would make the kernel answer with a reset.
  socket.write(`GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /ignored HTTP/1.1\r\nHost: h\r\n\r\n${'x'.repeat(512 * 1024)}`);
  const { data, reset } = await done;
  assert.equal(reset, false);
  assert.deepEqual(parseResponses(data).map((r) => r.status), [200]);
});

test('a client reset while its answer is pending closes the connection and frees its slot', async (t) => {
  let answer: (() => void) | undefined;
  const engine = createFastEngine((req, res) => {
    if (req.url === '/hold') answer = () => res.end('late');
    else res.end('now');
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => {});
  socket.write('GET /hold HTTP/1.1\r\nHost: h\r\n\r\n');
  while (answer === undefined) await new Promise((r) => setImmediate(r));
  socket.resetAndDestroy();
  while (engine.connections() > 0) await new Promise((r) => setTimeout(r, 5));
  answer(); // answering a connection that is gone is harmless
  const after = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
  assert.deepEqual(after.map((r) => r.body.toString()), ['now']);
});
