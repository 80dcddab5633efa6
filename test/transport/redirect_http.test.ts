// --redirect-http PORT: every request on the cleartext port gets a 308 to the same path on https.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { request } from '../support/http_client.ts';
import { startHerd, tempDir } from '../support/herd_process.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';
import { httpsGet } from './https_client.ts';

const skip = opensslMissing() ?? false;

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

test('--redirect-http answers 308 to the https URL, path and query kept; a missing Host is 400', { skip }, async (t) => {
  const cert = makeCertificate(tempDir(t), 'server');
  const port = await freePort();
  const herd = await startHerd(t, ['--workers', '1', '--tls-cert', cert.cert, '--tls-key', cert.key, '--redirect-http', String(port)]);
  const cleartext = `http://127.0.0.1:${port}`;
  const moved = await request(cleartext, '/a/b?c=d');
  assert.equal(moved.status, 308);
  assert.equal(moved.headers.location, `https://127.0.0.1:${herd.port}/a/b?c=d`);
  const named = await request(cleartext, '/', 10_000, '');
  assert.equal(named.headers.location, `https://127.0.0.1:${herd.port}/`);
  const noHost = await new Promise<string>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write('GET / HTTP/1.0\r\n\r\n'));
    let got = '';
    socket.on('data', (d) => (got += d));
    socket.on('close', () => resolve(got));
  });
  assert.match(noHost, /^HTTP\/1\.1 400 /);
  assert.equal((await httpsGet(herd.url, cert.pem, '/a/b?c=d')).status, 200);
});
