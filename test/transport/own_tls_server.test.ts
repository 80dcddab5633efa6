// An APP that takes over listen() with an https or http2 server of its own: it gets its share of
// the dispatch like any app server (the handshake in the worker, handed-off connections included),
// and herd counts, logs and drains it.
import assert from 'node:assert/strict';
import http2 from 'node:http2';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { startHerd, tempDir } from '../support/herd_process.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';
import { httpsGet } from './https_client.ts';

const skip = opensslMissing() ?? false;
const app = path.join(import.meta.dirname, 'fixtures/own_https.js');

for (const dispatch of ['reuseport', 'shared', 'handoff'] as const) {
  test(`an APP's own https server under ${dispatch} dispatch: served by both workers, logged, drained`, { skip }, async (t) => {
    const dir = tempDir(t);
    const cert = makeCertificate(dir, 'app');
    const log = path.join(dir, 'access.log');
    const herd = await startHerd(t, [app, '--workers', '2', '--dispatch', dispatch, '--access-log', log], { env: { ...process.env, APP_CERT: cert.cert, APP_KEY: cert.key } });
    const url = herd.url.replace(/^http:/, 'https:');
    const pids = new Set<number>();
    for (let i = 0; i < 30 && pids.size < 2; i++) {
      const reply = await httpsGet(url, cert.pem, `/n${i}`);
      assert.equal(reply.status, 200);
      assert.equal(reply.fingerprint, cert.fingerprint);
      pids.add(JSON.parse(reply.body).pid);
    }
    assert.equal(pids.size, 2, 'both workers answer');
    herd.child.kill('SIGTERM');
    assert.equal(await herd.exited, 0);
    const lines = fs.readFileSync(log, 'utf8').trim().split('\n');
    assert.ok(lines.length >= 2 && lines.every((l) => / "GET \/n\d+ HTTP\/1\.1" 200 /.test(l)), lines.join('\n'));
  });
}

test("an APP's own http2 server (HTTP/1.1 allowed) under handoff: h2 by ALPN, and HTTP/1.1", { skip }, async (t) => {
  const cert = makeCertificate(tempDir(t), 'app');
  const herd = await startHerd(t, [app, '--workers', '1', '--dispatch', 'handoff'], { env: { ...process.env, APP_CERT: cert.cert, APP_KEY: cert.key, APP_HTTP2: '1' } });
  const url = herd.url.replace(/^http:/, 'https:');
  const session = http2.connect(url, { ca: cert.pem });
  t.after(() => session.destroy());
  const body = await new Promise<string>((resolve, reject) => {
    const stream = session.request({ ':path': '/h2' });
    let text = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => (text += d));
    stream.on('end', () => resolve(text));
    stream.on('error', reject);
  });
  assert.equal(session.alpnProtocol, 'h2');
  assert.equal(JSON.parse(body).httpVersion, '2.0');
  assert.equal(JSON.parse((await httpsGet(url, cert.pem, '/h1')).body).httpVersion, '1.1');
});

test("--proxy-protocol before an APP's own https server: the header, then its handshake", { skip }, async (t) => {
  const cert = makeCertificate(tempDir(t), 'app');
  const herd = await startHerd(t, [app, '--workers', '1', '--proxy-protocol'], { env: { ...process.env, APP_CERT: cert.cert, APP_KEY: cert.key } });
  const net = await import('node:net');
  const tls = await import('node:tls');
  const reply = await new Promise<string>((resolve, reject) => {
    const raw = net.connect(herd.port, '127.0.0.1', () => {
      raw.write('PROXY TCP4 192.0.2.99 10.0.0.1 7000 443\r\n');
      const socket = tls.connect({ socket: raw, ca: cert.pem, servername: 'localhost' }, () => socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
      let got = '';
      socket.on('data', (d) => (got += d));
      socket.on('end', () => resolve(got));
      socket.on('error', reject);
    });
  });
  assert.equal(JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).remote, '192.0.2.99');
});

for (const dispatch of ['reuseport', 'handoff'] as const) {
  test(`an APP's own cleartext server under --tls-cert (${dispatch}) serves HTTPS: herd does the TLS in front of it`, { skip }, async (t) => {
    const dir = tempDir(t);
    const cert = makeCertificate(dir, 'herd');
    const log = path.join(dir, 'access.log');
    const herd = await startHerd(t, [path.join(import.meta.dirname, 'fixtures/own_http.js'), '--workers', '2', '--dispatch', dispatch, '--tls-cert', cert.cert, '--tls-key', cert.key, '--access-log', log]);
    assert.match(herd.url, /^https:/);
    for (let i = 0; i < 4; i++) {
      const reply = await httpsGet(herd.url, cert.pem, `/own${i}`, { method: 'POST', body: 'x'.repeat(i * 1000) });
      assert.equal(reply.status, 200);
      assert.equal(reply.fingerprint, cert.fingerprint);
      assert.deepEqual({ ...JSON.parse(reply.body), pid: 0 }, { pid: 0, url: `/own${i}`, encrypted: true, remote: '127.0.0.1' });
    }
    herd.child.kill('SIGTERM');
    assert.equal(await herd.exited, 0);
    assert.equal(fs.readFileSync(log, 'utf8').trim().split('\n').length, 4);
  });
}
