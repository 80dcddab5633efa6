// herd behind a real HAProxy (Debian's, when installed) in TCP mode with send-proxy and
// send-proxy-v2, TLS passed through to herd: the client's own address and port reach the app and
// the access log, not HAProxy's. The client connects from 127.0.0.7, so the two differ.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { test } from 'node:test';
import tls from 'node:tls';
import { startHerd, tempDir } from '../support/herd_process.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';

const haproxyMissing = spawnSync('haproxy', ['-v'], { stdio: 'ignore' }).error ? 'haproxy is not installed (apt-get install haproxy)' : null;
const skip = haproxyMissing ?? opensslMissing() ?? false;
const whoami = path.join(import.meta.dirname, 'fixtures/whoami.js');

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function getThrough(port: number, ca: Buffer): Promise<{ body: string; localPort: number }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise((resolve, reject) => {
        const raw = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.7' });
        raw.on('error', reject);
        const socket = tls.connect({ socket: raw, ca, servername: 'localhost' }, () => {
          const localPort = raw.localPort!;
          socket.write('GET /via-haproxy HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
          let got = '';
          socket.on('data', (d) => (got += d));
          socket.on('end', () => resolve({ body: got.slice(got.indexOf('\r\n\r\n') + 4), localPort }));
        });
        socket.on('error', reject);
      });
    } catch (err) {
      if (attempt >= 20) throw err; // haproxy may still be starting
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

for (const send of ['send-proxy', 'send-proxy-v2'] as const) {
  test(`behind HAProxy (${send}, TLS passed through): the app and the access log see the client, not HAProxy`, { skip }, async (t) => {
    const dir = tempDir(t);
    const cert = makeCertificate(dir, 'server');
    const log = path.join(dir, 'access.log');
    const herd = await startHerd(t, [whoami, '--workers', '1', '--proxy-protocol', '--tls-cert', cert.cert, '--tls-key', cert.key, '--access-log', log]);
    const front = await freePort();
    const config = path.join(dir, 'haproxy.cfg');
    fs.writeFileSync(config, `global
  maxconn 100
defaults
  mode tcp
  timeout connect 5s
  timeout client 10s
  timeout server 10s
frontend edge
  bind 127.0.0.1:${front}
  default_backend herd
backend herd
  server h1 127.0.0.1:${herd.port} ${send}
`);
    const haproxy = spawn('haproxy', ['-db', '-f', config], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    t.after(() => {
      try {
        process.kill(-haproxy.pid!, 'SIGKILL');
      } catch {
        // gone
      }
    });
    const { body, localPort } = await getThrough(front, cert.pem);
    const seen = JSON.parse(body);
    assert.equal(seen.remote, '127.0.0.7');
    assert.equal(seen.remotePort, localPort);
    const until = Date.now() + 5000;
    while (!(fs.existsSync(log) && fs.readFileSync(log, 'utf8').includes('via-haproxy')) && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 50));
    assert.match(fs.readFileSync(log, 'utf8'), /^127\.0\.0\.7 - - .*"GET \/via-haproxy HTTP\/1\.1" 200 /);
  });
}
