// ServerWatch on a real node:http server and real sockets, in the lean way (nothing recorded per
// request: the sweep finds each response on its socket) and the recorded way (an access record
// per response): timeouts judged once, pipelined responses found as their turn comes, drain.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { makeCertificate, opensslMissing } from '../transport/certificates.ts';
import type { AccessRecord } from '../../src/logd/access_record.ts';
import { ServerWatch, type WatchOptions } from '../../src/worker/server_watch.ts';

interface Watched {
  server: http.Server;
  watch: ServerWatch;
  port: number;
  cuts: string[];
  held: http.ServerResponse[];
}

/** /fast answers at once; /hold is kept unanswered (in `held`) until the test answers it. */
async function watched(t: { after(fn: () => unknown): void }, options: Partial<WatchOptions> = {}): Promise<Watched> {
  const held: http.ServerResponse[] = [];
  const server = http.createServer((req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('fast');
  });
  const cuts: string[] = [];
  const watch = new ServerWatch(server, { requestTimeoutMs: 0, bodyTimeoutMs: 0, idleTimeoutMs: 0, onCut: (line) => cuts.push(line), ...options });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    watch.destroyAll();
    server.close();
  });
  return { server, watch, port: (server.address() as net.AddressInfo).port, cuts, held };
}

/** A raw client: everything it reads, and a promise of its close. */
function rawClient(port: number): { socket: net.Socket; received: () => string; closed: Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  socket.on('data', (d) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, received: () => text, closed };
}

/** `closed`, or a failure after `ms`: node's own keep-alive timeout (raised to 60 s here) must not be what closes it. */
function closedSoon(closed: Promise<void>, what: string, ms = 2000): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} was not closed within ${ms} ms`)), ms)));
  return Promise.race([closed, late]).finally(() => clearTimeout(timer));
}

async function until(what: string, check: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !check(); await new Promise((r) => setTimeout(r, 10))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
  }
}

const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;

test('lean: a pipelined response that never comes gets 503 once its turn comes, cut once, never before the limit', async (t) => {
  const w = await watched(t, { requestTimeoutMs: 300 });
  const client = rawClient(w.port);
  const sent = Date.now();
  client.socket.write(get('/fast') + get('/hold'));
  await client.closed;
  const elapsed = Date.now() - sent;
  const text = client.received();
  assert.match(text, /^HTTP\/1\.1 200 OK[\s\S]*fast/);
  assert.match(text, /HTTP\/1\.1 503 Service Unavailable/);
  assert.ok(elapsed >= 300, `cut after ${elapsed} ms, before the 300 ms limit`);
  assert.equal(w.cuts.length, 1, w.cuts.join('\n'));
  assert.match(w.cuts[0], /^GET \/hold from 127\.0\.0\.1: 503: no response head within [\d.]+ s \(--request-timeout\)$/);
  assert.equal(w.watch.requests(), 2);
});

test('lean: a response that stops moving is cut after --idle-timeout; one that moves lives on', async (t) => {
  const w = await watched(t, { idleTimeoutMs: 300 });
  const stalled = rawClient(w.port);
  const moving = rawClient(w.port);
  stalled.socket.write(get('/hold'));
  moving.socket.write(get('/hold'));
  await until('both held', () => w.held.length === 2);
  const [stalledRes, movingRes] = w.held;
  stalledRes.writeHead(200, { 'Content-Type': 'text/plain' });
  stalledRes.write('first ');
  movingRes.writeHead(200, { 'Content-Type': 'text/plain' });
  const ticker = setInterval(() => movingRes.write('.'), 50);
  t.after(() => clearInterval(ticker));
  await stalled.closed;
  assert.equal(w.cuts.length, 1, w.cuts.join('\n'));
  assert.match(w.cuts[0], /connection closed: the response moved no bytes for [\d.]+ s \(--idle-timeout\)/);
  assert.equal(moving.socket.destroyed, false, 'the response that moves bytes is not cut');
  clearInterval(ticker);
  movingRes.end('done');
  await until('the moving response', () => moving.received().includes('done'));
});

test('lean: a drain closes idle keep-alive connections at once and waits for the response in progress, which says Connection: close', async (t) => {
  const w = await watched(t);
  const idle = rawClient(w.port);
  idle.socket.write(get('/fast'));
  await until('the first answer', () => idle.received().includes('fast'));
  const busy = rawClient(w.port);
  busy.socket.write(get('/hold'));
  await until('the held request', () => w.held.length === 1);
  let drained = false;
  const drain = w.watch.drainRequests().then(() => (drained = true));
  await closedSoon(idle.closed, 'the idle keep-alive connection');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(drained, false, 'the drain waits for the response in progress');
  w.held[0].end('late');
  await drain;
  await busy.closed;
  assert.match(busy.received(), /Connection: close[\s\S]*late$/);
});

test('recorded: with an access log each finished response is reported once, with its status and body bytes', async (t) => {
  const records: AccessRecord[] = [];
  const w = await watched(t, { onAccess: (r) => records.push(r) });
  const client = rawClient(w.port);
  client.socket.write(get('/fast') + get('/fast'));
  await until('two answers', () => client.received().split('fast').length === 3);
  await until('two records', () => records.length === 2);
  assert.deepEqual(records.map((r) => [r.method, r.url, r.status, r.bytes]), [['GET', '/fast', 200, 4], ['GET', '/fast', 200, 4]]);
  client.socket.destroy();
});

test('lean, https: a drain closes an idle TLS keep-alive connection at once and waits for the one in progress', { skip: opensslMissing() ?? false }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-watch-tls-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const certificate = makeCertificate(dir, 'watch');
  const held: http.ServerResponse[] = [];
  const server = https.createServer({ cert: fs.readFileSync(certificate.cert), key: fs.readFileSync(certificate.key) }, (req, res) => {
    if (req.url === '/hold') held.push(res);
    else res.end('fast');
  });
  const watch = new ServerWatch(server, { requestTimeoutMs: 0, bodyTimeoutMs: 0, idleTimeoutMs: 0, onCut: () => {} });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    watch.destroyAll();
    server.close();
  });
  const port = (server.address() as net.AddressInfo).port;
  const connect = () => {
    const socket = tls.connect({ port, host: '127.0.0.1', ca: certificate.pem });
    let text = '';
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', () => {});
    return { socket, received: () => text, closed: new Promise<void>((resolve) => socket.once('close', () => resolve())) };
  };
  const idle = connect();
  idle.socket.write(get('/fast'));
  await until('the first answer', () => idle.received().includes('fast'));
  const busy = connect();
  busy.socket.write(get('/hold'));
  await until('the held request', () => held.length === 1);
  let drained = false;
  const drain = watch.drainRequests().then(() => (drained = true));
  await closedSoon(idle.closed, 'the idle keep-alive connection');
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(drained, false, 'the drain waits for the response in progress');
  held[0].end('late');
  await drain;
  await busy.closed;
  assert.match(busy.received(), /Connection: close[\s\S]*late$/);
});
