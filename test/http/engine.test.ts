// The fast engine over real loopback sockets: keep-alive, pipelining, framing, errors, timeouts,
// limits, drain and the Engine seam (listen and emit('connection')).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createFastEngine } from '../../src/http/engine.ts';
import type { Handler } from '../../src/http/types.ts';
import type { AccessRecord } from '../../src/logd/access_record.ts';
import { Client, exchange, listen, parseResponses, quietErrors, TEST_OPTIONS } from './wire.ts';

const hello: Handler = (_req, res) => {
  res.setHeader('Content-Type', 'text/plain');
  res.end('Hello, World!');
};

test('keep-alive: several requests on one connection, Date and Content-Length set', async (t) => {
  const port = await listen(t, createFastEngine(hello, TEST_OPTIONS));
  const client = await Client.connect(port);
  t.after(() => client.close());
  for (let k = 0; k < 3; k++) {
    client.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
    const [r] = await client.responses(1);
    assert.equal(r.status, 200);
    assert.equal(r.body.toString(), 'Hello, World!');
    assert.equal(r.headers['content-length'], '13');
    assert.equal(r.headers['content-type'], 'text/plain');
    assert.equal(r.headers.connection, 'keep-alive');
    assert.match(r.headers.date, /^\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$/);
  }
  assert.equal(client.closed, false);
});

test('pipelined requests are answered in order even when handlers finish out of order', async (t) => {
  const finishers: (() => void)[] = [];
  const engine = createFastEngine((req, res) => {
    // Each response waits until the next request has arrived; the last one releases all, last first.
    finishers.push(() => res.end(req.url));
    if (finishers.length === 3) for (const f of finishers.splice(0).reverse()) f();
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const data = await exchange(port, 'GET /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\nGET /c HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.deepEqual(parseResponses(data).map((r) => r.body.toString()), ['/a', '/b', '/c']);
});

test('a synchronous pipelined batch leaves in one write', async (t) => {
  const port = await listen(t, createFastEngine(hello, TEST_OPTIONS));
  const client = await Client.connect(port);
  t.after(() => client.close());
  const reads: number[] = [];
  client.socket.on('data', (d: Buffer) => reads.push(d.length));
  client.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n'.repeat(5));
  const responses = await client.responses(5);
  assert.equal(responses.length, 5);
  // One write of five responses arrives as one read on loopback.
  assert.equal(reads.length, 1);
});

test('HEAD gets headers (with the GET length) and no body; 204 and 304 have no body', async (t) => {
  const engine = createFastEngine((req, res) => {
    if (req.url === '/204') res.statusCode = 204;
    if (req.url === '/304') res.statusCode = 304;
    res.end('body text');
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const data = await exchange(port, 'HEAD / HTTP/1.1\r\nHost: h\r\n\r\nGET /204 HTTP/1.1\r\nHost: h\r\n\r\nGET /304 HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n');
  const [head, noContent, notModified, get] = parseResponses(data, ['HEAD', 'GET', 'GET', 'GET']);
  assert.equal(head.headers['content-length'], '9');
  assert.equal(head.body.length, 0);
  assert.equal(noContent.status, 204);
  assert.equal(noContent.headers['content-length'], undefined);
  assert.equal(notModified.status, 304);
  assert.equal(get.body.toString(), 'body text');
});

test('streamed responses are chunked on 1.1 and close-delimited on 1.0', async (t) => {
  const engine = createFastEngine((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('one,');
    res.write(Buffer.from('two,'));
    res.end('three');
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const [r11] = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
  assert.equal(r11.headers['transfer-encoding'], 'chunked');
  assert.equal(r11.body.toString(), 'one,two,three');
  const [r10] = parseResponses(await exchange(port, 'GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n'));
  assert.equal(r10.headers['transfer-encoding'], undefined);
  assert.equal(r10.headers.connection, 'close');
  assert.equal(r10.body.toString(), 'one,two,three');
});

test('writeHead then end(body) still sends Content-Length', async (t) => {
  const engine = createFastEngine((_req, res) => {
    res.writeHead(201, 'Made', { 'X-A': '1', 'Set-Cookie': ['a=1', 'b=2'] }).end('done');
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const data = await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.match(data.toString('latin1'), /^HTTP\/1\.1 201 Made\r\n/);
  assert.match(data.toString('latin1'), /Set-Cookie: a=1\r\nSet-Cookie: b=2\r\n/);
  const [r] = parseResponses(data);
  assert.equal(r.headers['content-length'], '4');
  assert.equal(r.headers['x-a'], '1');
});

test('HTTP/1.0 closes unless keep-alive is asked for; Connection: close is honoured', async (t) => {
  const port = await listen(t, createFastEngine(hello, TEST_OPTIONS));
  for (const [request, connection] of [
    ['GET / HTTP/1.0\r\n\r\n', 'close'],
    ['GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', 'close'],
  ] as const) {
    const client = await Client.connect(port);
    t.after(() => client.close());
    client.send(request);
    const [r] = await client.responses(1);
    assert.equal(r.headers.connection, connection);
    await client.closedByServer();
  }
  const client = await Client.connect(port);
  t.after(() => client.close());
  client.send('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  const [r] = await client.responses(1);
  assert.equal(r.headers.connection, 'keep-alive');
  client.send('GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n');
  assert.equal((await client.responses(1))[0].status, 200);
});

test('request bodies: async iteration, text(), bytes(), chunked and Content-Length', async (t) => {
  const engine = createFastEngine(async (req, res) => {
    if (req.url === '/iterate') {
      let n = 0;
      for await (const chunk of req) n += chunk.length;
      res.end(String(n));
    } else if (req.url === '/bytes') {
      res.end((await req.bytes()).reverse());
    } else {
      res.end((await req.text()).toUpperCase());
    }
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const data = await exchange(
    port,
    'POST /iterate HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789' +
      'POST /bytes HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n' +
      'POST /text HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello',
  );
  assert.deepEqual(parseResponses(data).map((r) => r.body.toString()), ['10', 'edcba', 'HELLO']);
});

test('Expect: 100-continue gets 100 Continue before the final answer; over-limit gets 413 without it', async (t) => {
  const engine = createFastEngine(async (req, res) => void res.end(await req.text()), TEST_OPTIONS);
  const port = await listen(t, engine);
  const client = await Client.connect(port);
  t.after(() => client.close());
  client.send('POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n');
  const [interim] = await client.responses(0);
  assert.equal(interim.status, 100);
  client.send('ping');
  const [final] = await client.responses(1);
  assert.equal(final.body.toString(), 'ping');

  const data = await exchange(port, `POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: ${TEST_OPTIONS.bodyLimit + 1}\r\n\r\n`);
  const responses = parseResponses(data);
  assert.deepEqual(responses.map((r) => r.status), [413]);
});

test('bad requests get their status, Connection: close, and the connection closes', async (t) => {
  const port = await listen(t, createFastEngine(hello, TEST_OPTIONS));
  const client = await Client.connect(port);
  t.after(() => client.close());
  client.send('GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\nBad Name: x\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n');
  await client.closedByServer();
  const responses = await client.responses(2);
  assert.deepEqual(responses.map((r) => r.status), [200, 400]);
  assert.equal(responses[1].headers.connection, 'close');
  assert.match(responses[1].body.toString(), /malformed header name/);
});

test('a chunked body over the limit while the handler reads it: 413 replaces the answer', async (t) => {
  quietErrors(t);
  const engine = createFastEngine(async (req, res) => void res.end(await req.text()), TEST_OPTIONS);
  const port = await listen(t, engine);
  const half = TEST_OPTIONS.bodyLimit / 2;
  const data = await exchange(
    port,
    `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${half.toString(16)}\r\n${'a'.repeat(half)}\r\n${(half + 1).toString(16)}\r\n`,
  );
  assert.deepEqual(parseResponses(data).map((r) => r.status), [413]);
});

test('handler exceptions become 500 and the connection keeps serving', async (t) => {
  const errors = quietErrors(t);
  const handler: Handler = (req, res) => {
    if (req.url === '/sync') throw new Error('sync boom');
    if (req.url === '/async') {
      return (async () => {
        await Promise.resolve();
        throw new Error('async boom');
      })();
    }
    res.end('ok');
  };
  const port = await listen(t, createFastEngine(handler, TEST_OPTIONS));
  const data = await exchange(port, 'GET /sync HTTP/1.1\r\nHost: h\r\n\r\nGET /async HTTP/1.1\r\nHost: h\r\n\r\nGET /fine HTTP/1.1\r\nHost: h\r\n\r\n');
  const responses = parseResponses(data);
  assert.deepEqual(responses.map((r) => r.status), [500, 500, 200]);
  assert.equal(responses[0].headers.connection, 'keep-alive');
  assert.ok(errors.some((line) => line.includes('sync boom')));
  assert.ok(errors.some((line) => line.includes('async boom')));
});

test('a handler that fails after sending part of its answer gets its connection closed', async (t) => {
  quietErrors(t);
  const engine = createFastEngine(async (_req, res) => {
    res.write('partial');
    await Promise.resolve();
    throw new Error('late boom');
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const data = await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.throws(() => parseResponses(data), /truncated chunk|bad last chunk|truncated chunk size/);
});

test('request timeout: a handler that never answers gets 503 and the connection closes', async (t) => {
  const engine = createFastEngine(() => {}, { ...TEST_OPTIONS, requestTimeoutMs: 100 });
  const port = await listen(t, engine);
  const client = await Client.connect(port);
  t.after(() => client.close());
  client.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  const [r] = await client.responses(1);
  assert.equal(r.status, 503);
  assert.equal(r.headers.connection, 'close');
  await client.closedByServer();
});

test('headers timeout: a head that never completes gets 408; an idle keep-alive connection is closed', async (t) => {
  const engine = createFastEngine(hello, { ...TEST_OPTIONS, headersTimeoutMs: 100, keepAliveTimeoutMs: 100 });
  const port = await listen(t, engine);
  const slow = await Client.connect(port);
  t.after(() => slow.close());
  slow.send('GET / HTTP/1.1\r\nHost: h\r\n');
  const [r] = await slow.responses(1);
  assert.equal(r.status, 408);
  await slow.closedByServer();

  const idle = await Client.connect(port);
  t.after(() => idle.close());
  idle.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal((await idle.responses(1))[0].status, 200);
  await idle.closedByServer();
  assert.equal(await idle.responses(0).then((rs) => rs.length), 0); // closed without a word
});

test('connection limit: over the cap a client gets 503, others keep being served', async (t) => {
  const engine = createFastEngine(hello, { ...TEST_OPTIONS, maxConnections: 2 });
  const port = await listen(t, engine);
  const a = await Client.connect(port);
  const b = await Client.connect(port);
  t.after(() => (a.close(), b.close()));
  a.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  b.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  await a.responses(1);
  await b.responses(1);
  const over = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n'));
  assert.deepEqual(over.map((r) => r.status), [503]);
  assert.equal(engine.connections(), 2);
  a.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal((await a.responses(1))[0].status, 200);
});

test('drain: idle connections close now, in-flight requests finish with Connection: close', async (t) => {
  let release: (() => void) | undefined;
  const engine = createFastEngine((req, res) => {
    if (req.url === '/slow') release = () => res.end('slow done');
    else res.end('fast');
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const idle = await Client.connect(port);
  const busy = await Client.connect(port);
  t.after(() => (idle.close(), busy.close()));
  idle.send('GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  await idle.responses(1);
  busy.send('GET /slow HTTP/1.1\r\nHost: h\r\n\r\n');
  while (release === undefined) await new Promise((r) => setImmediate(r));
  assert.equal(engine.connections(), 2);
  let drained = false;
  const draining = engine.drain().then(() => (drained = true));
  await idle.closedByServer();
  assert.equal(drained, false);
  release();
  const [r] = await busy.responses(1);
  assert.equal(r.body.toString(), 'slow done');
  assert.equal(r.headers.connection, 'close');
  await draining;
  assert.equal(engine.connections(), 0);
  assert.equal(engine.requests(), 2);
});

test('handoff: a paused socket emitted as a connection is served', async (t) => {
  const engine = createFastEngine(hello, TEST_OPTIONS);
  t.after(() => engine.destroyAll());
  const front = net.createServer({ pauseOnConnect: true }, (socket) => engine.server.emit('connection', socket));
  t.after(() => front.close());
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  const port = (front.address() as net.AddressInfo).port;
  const responses = parseResponses(await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n'));
  assert.deepEqual(responses.map((r) => r.body.toString()), ['Hello, World!', 'Hello, World!']);
});

test('onAccess gets one record per finished response', async (t) => {
  const records: AccessRecord[] = [];
  const engine = createFastEngine(hello, { ...TEST_OPTIONS, onAccess: (r) => records.push(r) });
  const port = await listen(t, engine);
  await exchange(port, 'GET /x?y HTTP/1.1\r\nHost: h\r\nReferer: http://r/\r\nUser-Agent: ua/1\r\n\r\nHEAD / HTTP/1.0\r\n\r\n');
  assert.equal(records.length, 2);
  assert.deepEqual(
    { ...records[0], time: 0, durationMs: 0 },
    { remote: '127.0.0.1', time: 0, method: 'GET', url: '/x?y', httpVersion: '1.1', status: 200, bytes: 13, referer: 'http://r/', userAgent: 'ua/1', durationMs: 0, requestId: undefined },
  );
  assert.equal(records[1].method, 'HEAD');
  assert.equal(records[1].bytes, 0);
  assert.equal(engine.requests(), 2);
});

test('what the fast engine lacks throws an error naming --engine node', async (t) => {
  const messages: string[] = [];
  const engine = createFastEngine((req, res) => {
    for (const reach of [
      () => (req as unknown as { socket: unknown }).socket,
      () => (req as unknown as { pipe: unknown }).pipe,
      () => (res as unknown as { socket: unknown }).socket,
      () => res.on('pipe' as 'drain', () => {}),
    ]) {
      try {
        reach();
        messages.push('no error');
      } catch (error) {
        messages.push((error as Error).message);
      }
    }
    res.end();
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.equal(messages.length, 4);
  for (const m of messages) assert.match(m, /not available on the fast engine; run with --engine node/);
});

test('invalid response headers are refused (no response splitting)', async (t) => {
  const outcomes: string[] = [];
  const engine = createFastEngine((_req, res) => {
    try {
      res.setHeader('X-Evil', 'a\r\nInjected: yes');
      outcomes.push('accepted');
    } catch (error) {
      outcomes.push((error as Error).message);
    }
    res.end('ok');
  }, TEST_OPTIONS);
  const port = await listen(t, engine);
  const data = await exchange(port, 'GET / HTTP/1.1\r\nHost: h\r\n\r\n');
  assert.match(outcomes[0], /invalid character/);
  assert.doesNotMatch(data.toString(), /Injected/);
});
