// --http2 on the node engine: HTTP/2 chosen by ALPN for a client that offers it, HTTP/1.1 still
// served to one that does not, the same portable app on both; and a drain with an HTTP/2 client
// connected (GOAWAY) does not wait for --grace.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http2 from 'node:http2';
import path from 'node:path';
import { test } from 'node:test';
import { startHerd, tempDir } from '../support/herd_process.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';
import { httpsGet } from './https_client.ts';

const skip = opensslMissing() ?? false;
const whoami = path.join(import.meta.dirname, 'fixtures/whoami.js');

function h2Request(session: http2.ClientHttp2Session, path: string, body?: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':method': body === undefined ? 'GET' : 'POST', ':path': path });
    let status = 0;
    let text = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (d) => (text += d));
    stream.on('end', () => resolve({ status, body: text }));
    stream.on('error', reject);
    stream.end(body);
  });
}

test('--http2: ALPN picks h2 for an HTTP/2 client and http/1.1 for the rest; the same app answers both', { skip }, async (t) => {
  const dir = tempDir(t);
  const cert = makeCertificate(dir, 'server');
  const log = path.join(dir, 'access.log');
  // With the access log and metrics on: both read what each HTTP/2 response sent.
  const herd = await startHerd(t, [whoami, '--engine', 'node', '--workers', '2', '--http2', '--tls-cert', cert.cert, '--tls-key', cert.key, '--grace', '20', '--access-log', log, '--metrics', '0']);
  const session = http2.connect(herd.url, { ca: cert.pem });
  t.after(() => session.destroy());
  await new Promise<void>((resolve, reject) => session.once('connect', () => resolve()).once('error', reject));
  assert.equal(session.alpnProtocol, 'h2');
  // Several streams at once on the one connection.
  const replies = await Promise.all([h2Request(session, '/a'), h2Request(session, '/b', 'posted'), h2Request(session, '/c?q=1')]);
  for (const r of replies) assert.equal(r.status, 200);
  assert.deepEqual(replies.map((r) => { const j = JSON.parse(r.body); return [j.httpVersion, j.method, j.url, j.body]; }), [
    ['2.0', 'GET', '/a', ''],
    ['2.0', 'POST', '/b', 'posted'],
    ['2.0', 'GET', '/c?q=1', ''],
  ]);
  const one = await httpsGet(herd.url, cert.pem, '/d', { method: 'POST', body: 'x' });
  assert.equal(one.status, 200);
  assert.deepEqual({ ...JSON.parse(one.body), pid: 0, remotePort: 0 }, { pid: 0, remotePort: 0, remote: '127.0.0.1', httpVersion: '1.1', method: 'POST', url: '/d', body: 'x' });
  // Stop with the HTTP/2 session still open: GOAWAY lets the workers leave long before --grace.
  const started = Date.now();
  herd.child.kill('SIGTERM');
  assert.equal(await herd.exited, 0);
  assert.ok(Date.now() - started < 10_000, `stopped in ${Date.now() - started} ms with --grace 20`);
  assert.doesNotMatch(herd.output(), /uncaught|exited with code 1/);
  const lines = fs.readFileSync(log, 'utf8').trim().split('\n').sort();
  assert.deepEqual(lines.map((l) => /"(\w+ \S+ HTTP\/[\d.]+)" (\d+)/.exec(l)?.slice(1).join(' ')), ['GET /a HTTP/2.0 200', 'GET /c?q=1 HTTP/2.0 200', 'POST /b HTTP/2.0 200', 'POST /d HTTP/1.1 200'].sort());
});
