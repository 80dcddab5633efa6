// runBench against small servers started here: counts, status codes, error kinds, threads, rate.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runBench } from '../../src/bench/runner.ts';
import { closedPort, countRequests, countingServer, rawServer } from './servers.ts';

const OK = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok';

test('-n makes exactly n requests, each counted under its status code', async (t) => {
  const server = await countingServer(t, (n) => (n % 3 === 0 ? 404 : 200));
  const result = await runBench({ url: server.url, requests: 30, connections: 3 });
  assert.deepEqual(result.requests, { succeeded: 30, failed: 0 });
  assert.equal(server.served(), 30);
  assert.deepEqual(result.statusCodes, { '200': 20, '404': 10 });
  assert.equal(result.bytesTotal > 30 * 'hello'.length, true);
  assert.ok(result.latencyMs.max > 0 && result.latencyMs.p50 <= result.latencyMs.max);
});

test('keep-alive with -n: exact count over the same connections', async (t) => {
  const server = await countingServer(t);
  const result = await runBench({ url: server.url, requests: 101, connections: 4, keepAlive: true, http: '1.1' });
  assert.deepEqual(result.requests, { succeeded: 101, failed: 0 });
  assert.equal(server.served(), 101);
});

test('--threads 2: the threads\' counts add up to the total', async (t) => {
  const server = await countingServer(t);
  const counted = await runBench({ url: server.url, requests: 200, connections: 4, threads: 2, keepAlive: true });
  assert.equal(counted.threads, 2);
  assert.deepEqual(counted.requests, { succeeded: 200, failed: 0 });
  assert.equal(server.served(), 200);
  assert.equal(counted.statusCodes['200'], 200);

  const before = server.served();
  const timed = await runBench({ url: server.url, durationSec: 0.5, connections: 4, threads: 2, keepAlive: true });
  const served = server.served() - before;
  // Requests still in flight when time is up are served but not counted: at most one per connection.
  assert.ok(timed.requests.succeeded > 0);
  assert.ok(served >= timed.requests.succeeded && served <= timed.requests.succeeded + 4, `served ${served}, counted ${timed.requests.succeeded}`);
});

test('a closed port: every request fails as refused', async () => {
  const port = await closedPort();
  const result = await runBench({ url: `http://127.0.0.1:${port}/`, requests: 5 });
  assert.deepEqual(result.requests, { succeeded: 0, failed: 5 });
  assert.equal(result.errors.refused, 5);
});

test('a server that resets, or closes without answering: reset', async (t) => {
  const resets = await rawServer(t, (socket) => socket.resetAndDestroy());
  const r1 = await runBench({ url: resets.url, requests: 4, connections: 2 });
  assert.deepEqual(r1.requests, { succeeded: 0, failed: 4 });
  assert.equal(r1.errors.reset, 4);

  const hangsUp = await rawServer(t, (socket) => socket.end());
  const r2 = await runBench({ url: hangsUp.url, requests: 3, keepAlive: true });
  assert.equal(r2.errors.reset, 3);
});

test('a server that never answers: timeout', async (t) => {
  const silent = await rawServer(t, () => {});
  const result = await runBench({ url: silent.url, requests: 2, connections: 2, timeoutSec: 0.2 });
  assert.deepEqual(result.requests, { succeeded: 0, failed: 2 });
  assert.equal(result.errors.timeout, 2);
});

test('garbage or a truncated body: bad response', async (t) => {
  const garbage = await rawServer(t, (socket) => socket.end('SMTP ready\r\n\r\n'));
  const r1 = await runBench({ url: garbage.url, requests: 3 });
  assert.equal(r1.errors.bad_response, 3);

  const truncated = await rawServer(t, (socket) => socket.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc'));
  const r2 = await runBench({ url: truncated.url, requests: 3 });
  assert.equal(r2.errors.bad_response, 3);
  assert.equal(r2.requests.succeeded, 0);
});

test('close-delimited and chunked bodies count once complete', async (t) => {
  const closeDelimited = await rawServer(t, (socket) => socket.end('HTTP/1.0 200 OK\r\n\r\nuntil the close'));
  const r1 = await runBench({ url: closeDelimited.url, requests: 3 });
  assert.deepEqual(r1.requests, { succeeded: 3, failed: 0 });

  const chunked = await rawServer(t, (socket) => socket.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n'));
  const r2 = await runBench({ url: chunked.url, requests: 5, keepAlive: true, http: '1.1' });
  assert.deepEqual(r2.requests, { succeeded: 5, failed: 0 });
  assert.equal(chunked.connections().length, 1);
});

test('--rate holds a low rate: 200 requests/s for 2 s is 400 requests within 5%', async (t) => {
  const server = await countingServer(t);
  const result = await runBench({ url: server.url, durationSec: 2, rate: 200, connections: 4, keepAlive: true });
  assert.ok(Math.abs(result.requests.succeeded - 400) <= 20, `got ${result.requests.succeeded}`);
  assert.equal(result.requests.failed, 0);
});

test('--rate measures latency from when a request was due (coordinated omission)', async (t) => {
  // The server stalls its first reply for 300 ms; at 50 requests/s on one connection the requests
  // due during the stall wait behind it, and their latency must show that wait.
  let first = true;
  const answered = new WeakMap<object, number>();
  const stalling = await rawServer(t, (socket, received) => {
    const total = countRequests(received);
    for (let i = answered.get(socket) ?? 0; i < total; i++) {
      if (first) setTimeout(() => socket.write(OK), 300);
      else socket.write(OK);
      first = false;
    }
    answered.set(socket, total);
  });
  const result = await runBench({ url: stalling.url, requests: 20, rate: 50, connections: 1, keepAlive: true, http: '1.1' });
  assert.equal(result.requests.succeeded, 20);
  // Uncorrected, only the first request would be slow (p90 near zero); corrected, the ~15 due
  // during the stall carry part of it.
  assert.ok(result.latencyMs.p50 >= 50, `p50 ${result.latencyMs.p50} ms`);
});
