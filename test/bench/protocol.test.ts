// What herd bench puts on the wire, checked against a server that records the raw bytes it got.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type net from 'node:net';
import type { TestContext } from 'node:test';
import { runBench } from '../../src/bench/runner.ts';
import { countRequests, rawServer } from './servers.ts';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

/** Answers each complete request once, after `batch` of them are waiting (1: at once). */
function answering(t: TestContext, batch = 1) {
  const answered = new WeakMap<net.Socket, number>();
  return rawServer(t, (socket, received) => {
    const total = countRequests(received);
    const done = answered.get(socket) ?? 0;
    if (total - done < batch) return;
    socket.write(OK.repeat(total - done));
    answered.set(socket, total);
  });
}

function requestsOf(bytes: Buffer): string[] {
  return bytes.toString('latin1').split('\r\n\r\n').filter((r) => r !== '');
}

test('default: webbench\'s HTTP/1.0 GET, a new connection per request', async (t) => {
  const server = await answering(t);
  const result = await runBench({ url: `${server.url}path?q=1`, requests: 3 });
  assert.equal(result.requests.succeeded, 3);
  const connections = server.connections();
  assert.equal(connections.length, 3);
  const [request] = requestsOf(connections[0]);
  assert.match(request, /^GET \/path\?q=1 HTTP\/1\.0\r\n/);
  assert.match(request, new RegExp(`\r\nHost: 127\\.0\\.0\\.1:${server.port}(\r\n|$)`));
  assert.doesNotMatch(request, /Connection:/i);
});

test('-2: HTTP/1.1 asks for Connection: close unless keep-alive', async (t) => {
  const server = await answering(t);
  await runBench({ url: server.url, requests: 2, http: '1.1' });
  assert.equal(server.connections().length, 2);
  assert.match(requestsOf(server.connections()[0])[0], /^GET \/ HTTP\/1\.1\r\n[^]*\r\nConnection: close/);
});

test('-k: HTTP/1.1 keep-alive carries every request on one connection', async (t) => {
  const server = await answering(t);
  const result = await runBench({ url: server.url, requests: 10, keepAlive: true, http: '1.1' });
  assert.equal(result.requests.succeeded, 10);
  assert.equal(server.connections().length, 1);
  assert.equal(countRequests(server.connections()[0]), 10);
  assert.doesNotMatch(server.connections()[0].toString(), /Connection: close/);
});

test('-k with HTTP/1.0 sends Connection: keep-alive', async (t) => {
  const server = await answering(t);
  await runBench({ url: server.url, requests: 4, keepAlive: true });
  assert.equal(server.connections().length, 1);
  assert.match(requestsOf(server.connections()[0])[3], /^GET \/ HTTP\/1\.0\r\n[^]*Connection: keep-alive/);
});

test('--pipeline 4: four requests written before any reply', async (t) => {
  // The server replies only once four requests are waiting: without pipelining this would time out.
  const server = await answering(t, 4);
  const result = await runBench({ url: server.url, requests: 12, pipeline: 4, timeoutSec: 2, http: '1.1' });
  assert.deepEqual(result.requests, { succeeded: 12, failed: 0 });
  assert.equal(server.connections().length, 1);
  assert.equal(countRequests(server.connections()[0]), 12);
});

test('-9: HTTP/0.9 is a bare request line, the reply is the bytes up to the close', async (t) => {
  const server = await rawServer(t, (socket) => socket.end('<html>0.9</html>'));
  const result = await runBench({ url: server.url, requests: 2, http: '0.9' });
  assert.equal(result.requests.succeeded, 2);
  assert.equal(server.connections()[0].toString('latin1'), 'GET /\r\n');
});

test('-m, -H, --body, -r: method, headers, body and Pragma as given', async (t) => {
  const server = await answering(t);
  await runBench({ url: server.url, requests: 1, method: 'PUT', headers: [['X-Test', 'yes'], ['User-Agent', 'mine']], body: 'abc', reload: true });
  const request = server.connections()[0].toString('latin1');
  assert.match(request, /^PUT \/ HTTP\/1\.0\r\n/);
  assert.match(request, /\r\nX-Test: yes\r\n/);
  assert.match(request, /\r\nUser-Agent: mine\r\n/);
  assert.equal(request.match(/User-Agent/g)!.length, 1);
  assert.match(request, /\r\nPragma: no-cache\r\n/);
  assert.match(request, /\r\nContent-Length: 3\r\n[^]*\r\n\r\nabc$/);
});

test('--head, --options and a proxy follow webbench\'s upgrades and targets', async (t) => {
  const server = await answering(t);
  await runBench({ url: server.url, requests: 1, method: 'OPTIONS' });
  assert.match(server.connections()[0].toString('latin1'), /^OPTIONS \/ HTTP\/1\.1\r\n/);
  await runBench({ url: 'http://example.test/x', requests: 1, proxy: `127.0.0.1:${server.port}`, method: 'HEAD', http: '0.9' });
  assert.match(server.connections()[1].toString('latin1'), /^HEAD http:\/\/example\.test\/x HTTP\/1\.0\r\n/);
});

test('-f: counts requests once written, never reads a reply', async (t) => {
  const silent = await rawServer(t, () => {});
  const result = await runBench({ url: silent.url, requests: 5, force: true, timeoutSec: 1 });
  assert.deepEqual(result.requests, { succeeded: 5, failed: 0 });
  assert.deepEqual(result.statusCodes, {});
});
