// --proxy-protocol on a running herd: the header's client address is what the app and the access
// log see, on both engines and under TLS (the bytes after the header are the handshake); a v2
// LOCAL header is served; a connection without a valid header is closed and herd serves on.
// --trust-proxy: X-Forwarded-For from a trusted peer is the logged client.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { startHerd, tempDir } from '../support/herd_process.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';
import { proxyV2, v2Tcp4 } from './proxy_headers.ts';

const whoami = path.join(import.meta.dirname, 'fixtures/whoami.js');
const REQUEST = 'GET /who HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n';

/** Sends `header`, then the request (over TLS when `ca` is given); resolves with all the server sent. */
function exchange(port: number, header: Buffer, request = REQUEST, ca?: Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const raw = net.connect(port, '127.0.0.1');
    raw.once('connect', () => {
      raw.write(header);
      const socket: net.Socket = ca ? tls.connect({ socket: raw, ca, servername: 'localhost' }) : raw;
      let got = '';
      socket.setTimeout(10_000, () => socket.destroy(new Error('timeout')));
      if (ca) socket.once('secureConnect', () => socket.write(request));
      else socket.write(request);
      socket.on('data', (d) => (got += d.toString('latin1')));
      socket.on('error', (err) => (got === '' ? reject(err) : resolve(got)));
      socket.on('close', () => resolve(got));
    });
  });
}

async function accessLines(file: string, count: number): Promise<string[]> {
  const until = Date.now() + 10_000;
  for (;;) {
    const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter(Boolean) : [];
    if (lines.length >= count || Date.now() > until) return lines;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const bodyOf = (response: string): string => response.slice(response.indexOf('\r\n\r\n') + 4);
const skipTls = opensslMissing() ?? false;

test('--proxy-protocol, node engine: v1 and v2 addresses reach the app and the access log; LOCAL served; no header closed', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'access.log');
  const herd = await startHerd(t, [whoami, '--engine', 'node', '--workers', '1', '--dispatch', 'handoff', '--proxy-protocol', '--access-log', log]);
  const v1 = await exchange(herd.port, Buffer.from('PROXY TCP4 192.0.2.10 10.0.0.1 56324 443\r\n'));
  assert.equal(JSON.parse(bodyOf(v1)).remote, '192.0.2.10');
  const v2 = await exchange(herd.port, v2Tcp4('198.51.100.22', 40000));
  assert.equal(JSON.parse(bodyOf(v2)).remote, '198.51.100.22');
  const local = await exchange(herd.port, proxyV2('LOCAL', 0x00, Buffer.alloc(0)));
  assert.equal(JSON.parse(bodyOf(local)).remote, '127.0.0.1');
  // The header and the request in one write, and the request split from the header: both work.
  const glued = await exchange(herd.port, Buffer.concat([Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 443\r\n'), Buffer.from(REQUEST)]), '');
  assert.equal(JSON.parse(bodyOf(glued)).remote, '2001:db8::7');
  for (const garbage of [Buffer.from(REQUEST), Buffer.from('PROXY TCP4 1.2.3.999 1.2.3.4 1 2\r\n')]) {
    assert.equal(await exchange(herd.port, garbage, ''), '', 'closed without an answer');
  }
  assert.equal(JSON.parse(bodyOf(await exchange(herd.port, Buffer.from('PROXY UNKNOWN\r\n')))).remote, '127.0.0.1');
  const lines = await accessLines(log, 5);
  assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['192.0.2.10', '198.51.100.22', '127.0.0.1', '2001:db8::7', '127.0.0.1']);
});

test('--proxy-protocol, fast engine: the header address is in the access log; a bad header is closed', async (t) => {
  const dir = tempDir(t);
  const log = path.join(dir, 'access.log');
  const herd = await startHerd(t, ['--workers', '1', '--proxy-protocol', '--access-log', log]);
  assert.match(await exchange(herd.port, v2Tcp4('198.51.100.40', 1234)), /^HTTP\/1\.1 200 [^]*Hello, World!$/);
  assert.equal(await exchange(herd.port, Buffer.from('PROXY TCP4 1.2.3.4\r\n'), ''), '');
  assert.match(await exchange(herd.port, Buffer.from('PROXY TCP4 192.0.2.41 10.0.0.1 5 443\r\n')), /^HTTP\/1\.1 200 /);
  const lines = await accessLines(log, 2);
  assert.deepEqual(lines.map((l) => l.split(' ')[0]), ['198.51.100.40', '192.0.2.41']);
});

for (const engine of ['fast', 'node'] as const) {
  test(`--proxy-protocol under TLS (${engine} engine): the header, then the handshake`, { skip: skipTls }, async (t) => {
    const dir = tempDir(t);
    const cert = makeCertificate(dir, 'server');
    const log = path.join(dir, 'access.log');
    const app = engine === 'node' ? [whoami] : [];
    const herd = await startHerd(t, [...app, '--engine', engine, '--workers', '1', '--dispatch', 'shared', '--proxy-protocol', '--tls-cert', cert.cert, '--tls-key', cert.key, '--access-log', log]);
    const reply = await exchange(herd.port, Buffer.from('PROXY TCP4 192.0.2.77 10.0.0.1 6000 443\r\n'), REQUEST, cert.pem);
    assert.match(reply, /^HTTP\/1\.1 200 /);
    if (engine === 'node') assert.equal(JSON.parse(bodyOf(reply)).remote, '192.0.2.77');
    // A TLS client that sends no header is closed before its handshake.
    await assert.rejects(exchange(herd.port, Buffer.alloc(0), REQUEST, cert.pem));
    assert.deepEqual((await accessLines(log, 1)).map((l) => l.split(' ')[0]), ['192.0.2.77']);
  });
}

test('--trust-proxy: X-Forwarded-For from a trusted peer is the logged client; from another peer it is not', async (t) => {
  const dir = tempDir(t);
  const trusted = path.join(dir, 'trusted.log');
  const untrusted = path.join(dir, 'untrusted.log');
  const a = await startHerd(t, [whoami, '--workers', '1', '--proxy-protocol', '--trust-proxy', '10.0.0.0/8', '--access-log', trusted]);
  const b = await startHerd(t, [whoami, '--workers', '1', '--trust-proxy', '10.0.0.0/8', '--access-log', untrusted]);
  const withXff = (xff: string) => `GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: ${xff}\r\nConnection: close\r\n\r\n`;
  // The balancer (PROXY) says the peer is 10.0.0.5, a trusted proxy; it forwarded for 203.0.113.9.
  await exchange(a.port, Buffer.from('PROXY TCP4 10.0.0.5 10.0.0.1 6000 80\r\n'), withXff('203.0.113.9'));
  await exchange(a.port, Buffer.from('PROXY TCP4 10.0.0.5 10.0.0.1 6000 80\r\n'), withXff('198.51.100.1, 10.7.7.7'));
  await exchange(a.port, Buffer.from('PROXY TCP4 192.0.2.1 10.0.0.1 6000 80\r\n'), withXff('203.0.113.9'));
  await exchange(b.port, Buffer.alloc(0), withXff('203.0.113.9'));
  assert.deepEqual((await accessLines(trusted, 3)).map((l) => l.split(' ')[0]), ['203.0.113.9', '198.51.100.1', '192.0.2.1']);
  assert.deepEqual((await accessLines(untrusted, 1)).map((l) => l.split(' ')[0]), ['127.0.0.1']);
});

for (const engine of ['node', 'fast'] as const) {
  test(`--handoff sticky behind --proxy-protocol (${engine} engine): the header's client picks the worker, not the balancer's address`, async (t) => {
    const dir = tempDir(t);
    const log = path.join(dir, 'access.log');
    const app = engine === 'node' ? [whoami] : [];
    const herd = await startHerd(t, [...app, '--engine', engine, '--workers', '2', '--dispatch', 'handoff', '--handoff', 'sticky', '--proxy-protocol', '--access-log', log]);
    const clients = Array.from({ length: 8 }, (_, i) => `192.0.2.${i + 1}`);
    const workerOf = new Map<string, Set<string>>();
    for (let round = 0; round < 3; round++) {
      for (const client of clients) {
        const header = round === 1 ? v2Tcp4(client, 1000 + round) : Buffer.from(`PROXY TCP4 ${client} 10.0.0.1 ${1000 + round} 443\r\n`);
        const reply = await exchange(herd.port, header);
        assert.match(reply, /^HTTP\/1\.1 200 /);
        const pid = engine === 'node' ? String(JSON.parse(bodyOf(reply)).pid) : '';
        if (engine === 'node') assert.equal(JSON.parse(bodyOf(reply)).remote, client);
        if (!workerOf.has(client)) workerOf.set(client, new Set());
        workerOf.get(client)!.add(pid);
      }
    }
    // A connection without a header is closed here too (the supervisor reads it), and herd serves on.
    assert.equal(await exchange(herd.port, Buffer.from(REQUEST), ''), '');
    const lines = await accessLines(log, clients.length * 3);
    // Two workers write their lines each in its own order.
    assert.deepEqual(lines.map((l) => l.split(' ')[0]).sort(), [...clients, ...clients, ...clients].sort());
    if (engine === 'node') {
      for (const [client, pids] of workerOf) assert.equal(pids.size, 1, `${client} always on one worker`);
      assert.equal(new Set([...workerOf.values()].flatMap((pids) => [...pids])).size, 2, 'the clients are spread over both workers');
    }
  });
}
