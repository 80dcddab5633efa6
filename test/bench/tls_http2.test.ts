// HTTPS and HTTP/2 load against real node:https and node:http2 servers: every request counted
// exactly with -n, TLS session resumption on by default and off with --no-tls-resume, a
// self-signed certificate refused unless --insecure.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import type net from 'node:net';
import type tls from 'node:tls';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs } from '../../src/cli/bench.ts';
import { resolveOptions } from '../../src/bench/options.ts';
import { runBench } from '../../src/bench/runner.ts';
import { UsageError } from '../../src/errors.ts';

const fixture = (name: string): Buffer => fs.readFileSync(fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url)));
const KEY = fixture('localhost.key');
const CERT = fixture('localhost.crt');

interface Counted {
  url: string;
  served: () => number;
  connections: () => number;
  resumed: () => number;
}

async function listen(t: TestContext, server: net.Server, scheme: string, counts: Omit<Counted, 'url'>): Promise<Counted> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    (server as https.Server).closeAllConnections?.();
  }));
  return { url: `${scheme}://127.0.0.1:${(server.address() as net.AddressInfo).port}/`, ...counts };
}

async function httpsServer(t: TestContext): Promise<Counted> {
  let served = 0, connections = 0, resumed = 0;
  const server = https.createServer({ key: KEY, cert: CERT }, (req, res) => {
    served++;
    res.end('hello');
  });
  server.on('secureConnection', (socket: tls.TLSSocket) => {
    connections++;
    if (socket.isSessionReused()) resumed++;
  });
  return listen(t, server, 'https', { served: () => served, connections: () => connections, resumed: () => resumed });
}

async function h2Server(t: TestContext, secure: boolean): Promise<Counted> {
  let served = 0, connections = 0;
  const server = secure ? http2.createSecureServer({ key: KEY, cert: CERT }) : http2.createServer();
  server.on('stream', (stream) => {
    served++;
    stream.respond({ ':status': 200, 'content-type': 'text/plain' });
    stream.end('hello');
  });
  server.on('session', (session) => {
    connections++;
    t.after(() => session.destroy());
  });
  return listen(t, server as unknown as net.Server, secure ? 'https' : 'http', { served: () => served, connections: () => connections, resumed: () => 0 });
}

test('https, a new connection per request: -n counted exactly, sessions resumed after the first handshakes', async (t) => {
  const server = await httpsServer(t);
  const result = await runBench({ url: server.url, requests: 40, connections: 2, insecure: true });
  assert.deepEqual(result.requests, { succeeded: 40, failed: 0 });
  assert.equal(server.served(), 40);
  assert.equal(server.connections(), 40);
  assert.ok(server.resumed() >= 30, `${server.resumed()} of 40 handshakes resumed`);
});

test('https with --no-tls-resume: every connection is a full handshake', async (t) => {
  const server = await httpsServer(t);
  const result = await runBench({ url: server.url, requests: 20, connections: 2, insecure: true, tlsResume: false });
  assert.deepEqual(result.requests, { succeeded: 20, failed: 0 });
  assert.equal(server.connections(), 20);
  assert.equal(server.resumed(), 0);
});

test('https keep-alive: -n counted exactly over as many connections as clients', async (t) => {
  const server = await httpsServer(t);
  const result = await runBench({ url: server.url, requests: 300, connections: 3, keepAlive: true, http: '1.1', insecure: true });
  assert.deepEqual(result.requests, { succeeded: 300, failed: 0 });
  assert.equal(server.served(), 300);
  assert.equal(server.connections(), 3);
});

test('https against a self-signed certificate without --insecure: every request fails, none served', async (t) => {
  const server = await httpsServer(t);
  const result = await runBench({ url: server.url, requests: 5 });
  assert.deepEqual(result.requests, { succeeded: 0, failed: 5 });
  assert.equal(result.errors.other, 5);
  assert.equal(server.served(), 0);
});

test('--http2 over TLS (ALPN h2): -n counted exactly, streams spread over the connections', async (t) => {
  const server = await h2Server(t, true);
  const result = await runBench({ url: server.url, requests: 250, connections: 2, http2: true, streams: 8, insecure: true });
  assert.deepEqual(result.requests, { succeeded: 250, failed: 0 });
  assert.deepEqual(result.statusCodes, { '200': 250 });
  assert.equal(server.served(), 250);
  assert.equal(server.connections(), 2);
  assert.ok(result.bytesTotal >= 250 * 5);
});

test('--http2 on http:// (prior knowledge) and with two threads: -n counted exactly', async (t) => {
  const server = await h2Server(t, false);
  const result = await runBench({ url: server.url, requests: 101, connections: 2, threads: 2, http2: true, streams: 4 });
  assert.deepEqual(result.requests, { succeeded: 101, failed: 0 });
  assert.equal(server.served(), 101);
});

/** A node:http2 cleartext server answering with `handler`; counts streams and sessions. */
async function h2With(t: TestContext, handler: (stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders, n: number) => void, settings?: http2.Settings): Promise<Counted> {
  let served = 0, connections = 0;
  const server = http2.createServer(settings ? { settings } : {});
  server.on('stream', (stream, headers) => handler(stream, headers, served++));
  server.on('session', (session) => {
    connections++;
    t.after(() => session.destroy());
  });
  return listen(t, server as unknown as net.Server, 'http', { served: () => served, connections: () => connections, resumed: () => 0 });
}

test('--http2: statuses outside the static table (Huffman-coded by the server), trailers and a body over many frames', async (t) => {
  const big = Buffer.alloc(100_000, 'x');
  const server = await h2With(t, (stream, _headers, n) => {
    if (n % 3 === 0) {
      stream.respond({ ':status': 201 });
      stream.end('made');
    } else if (n % 3 === 1) {
      stream.respond({ ':status': 302, location: '/elsewhere' }, { waitForTrailers: true });
      stream.on('wantTrailers', () => stream.sendTrailers({ 'x-checksum': 'abc' }));
      stream.end();
    } else {
      stream.respond({ ':status': 200 });
      stream.end(big);
    }
  });
  const result = await runBench({ url: server.url, requests: 90, connections: 1, http2: true, streams: 5 });
  assert.deepEqual(result.requests, { succeeded: 90, failed: 0 });
  assert.deepEqual(result.statusCodes, { '201': 30, '302': 30, '200': 30 });
  assert.ok(result.bytesTotal >= 30 * big.length, `${result.bytesTotal} bytes received`);
});

test('--http2: the server\'s SETTINGS_MAX_CONCURRENT_STREAMS caps --streams; a POST body arrives whole', async (t) => {
  let open = 0, most = 0;
  const body = 'x'.repeat(20_000); // two DATA frames
  const server = await h2With(t, (stream, headers) => {
    open++;
    most = Math.max(most, open);
    let length = 0;
    stream.on('data', (chunk: Buffer) => (length += chunk.length));
    stream.on('end', () => {
      setTimeout(() => {
        open--;
        stream.respond({ ':status': length === body.length && headers[':method'] === 'POST' ? 200 : 400 });
        stream.end();
      }, 2);
    });
  }, { maxConcurrentStreams: 2 });
  const result = await runBench({ url: server.url, requests: 40, connections: 1, http2: true, streams: 8, method: 'POST', body });
  assert.deepEqual(result.requests, { succeeded: 40, failed: 0 });
  assert.deepEqual(result.statusCodes, { '200': 40 });
  assert.ok(most <= 2, `${most} streams were open at once`);
});

test('--http2: a server that sends GOAWAY after some streams: the rest go over a new connection, none lost', async (t) => {
  const server = await h2With(t, (stream, _headers, n) => {
    stream.respond({ ':status': 200 });
    stream.end('ok');
    if (n % 10 === 9) stream.session?.close(); // GOAWAY: finish what is open, accept nothing new
  });
  const result = await runBench({ url: server.url, requests: 50, connections: 1, http2: true, streams: 4 });
  assert.deepEqual(result.requests, { succeeded: 50, failed: 0 });
  assert.ok(server.connections() >= 2, `${server.connections()} connections`);
});

test('--http2 against HTTP/1.1-only servers: every request fails, none hangs', async (t) => {
  const secure = await httpsServer(t); // offers no ALPN h2
  const overTls = await runBench({ url: secure.url, requests: 3, http2: true, insecure: true, timeoutSec: 5 });
  assert.deepEqual(overTls.requests, { succeeded: 0, failed: 3 });
  assert.equal(overTls.errors.other, 3);
  assert.equal(secure.served(), 0);
  let served = 0;
  const plain = http.createServer((req, res) => (served++, res.end('hello')));
  const url = (await listen(t, plain, 'http', { served: () => served, connections: () => 0, resumed: () => 0 })).url;
  const priorKnowledge = await runBench({ url, requests: 3, http2: true, timeoutSec: 5 });
  assert.deepEqual(priorKnowledge.requests, { succeeded: 0, failed: 3 });
  assert.equal(priorKnowledge.errors.bad_response, 3); // its 'HTTP/1.1 400' read as a frame is too long
  assert.equal(served, 0);
});

test('TLS and HTTP/2 bad input is one UsageError line', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--streams', '4', 'http://127.0.0.1/'], /--streams .* needs --http2/],
    [['--http2', '--pipeline', '4', 'http://127.0.0.1/'], /with --http2 use --streams/],
    [['--http2', '-2', 'http://127.0.0.1/'], /cannot be combined with --http2/],
    [['--http2', '--body', 'x'.repeat(70_000), 'http://127.0.0.1/'], /at most 65535 bytes/],
    [['--insecure', 'http://127.0.0.1/'], /need an https:\/\/ URL/],
    [['-p', '127.0.0.1:3128', 'https://127.0.0.1/'], /https:\/\/ through a proxy/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(async () => resolveOptions(parseBenchArgs(args).options), (err: unknown) => err instanceof UsageError && message.test(err.message));
  }
});
