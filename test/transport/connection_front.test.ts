// The fast engine's front under TLS, with a stand-in engine server that takes handed-over handles:
// a connection past its handshake but with no request yet keeps settled() (what a drain waits for)
// open; its first request hands it on, and settled() resolves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { connectionFront } from '../../src/transport/connection_front.ts';
import { attachHandle, closeHandle, takeHandedHandles, writeBuffer } from '../../src/uv/stream_handle.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';
import { tempDir } from '../support/herd_process.ts';

const skip = opensslMissing() ?? false;

test('a TLS front: a handshake without a request holds settled() open; the request hands it on', { skip }, async (t) => {
  const cert = makeCertificate(tempDir(t), 'server');
  const context = tls.createSecureContext({ cert: cert.pem, key: fs.readFileSync(cert.key) });
  const engine = net.createServer();
  const heads: string[] = [];
  takeHandedHandles(engine, (handle, _socket, buffered) => {
    heads.push(buffered === null ? '' : buffered.toString('latin1'));
    attachHandle(handle, { onData: () => {}, onEnd: () => closeHandle(handle), onFailure: () => closeHandle(handle), onWritten: () => {} });
    writeBuffer(handle, Buffer.from('answer'));
  });
  const front = connectionFront(engine, { proxyProtocol: false, tls: context, timeoutMs: 10_000 });
  await new Promise<void>((resolve) => front.server.listen(0, '127.0.0.1', resolve));
  t.after(() => front.server.close());
  const client = tls.connect({ port: (front.server.address() as net.AddressInfo).port, host: '127.0.0.1', ca: cert.pem });
  t.after(() => client.destroy());
  await once(client, 'secureConnect', { signal: AbortSignal.timeout(5000) });
  let settled = false;
  const settling = front.settled().then(() => (settled = true));
  // A round trip to the server and back: the handshake is done there too, and still pending.
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(settled, false, 'a drain must wait: this connection has a request on its way');
  client.write('GET / HTTP/1.1\r\n\r\n');
  await Promise.race([settling, new Promise((_, reject) => setTimeout(() => reject(new Error('settled() never resolved')), 5000).unref())]);
  assert.deepEqual(heads, ['GET / HTTP/1.1\r\n\r\n']);
  const [answer] = await once(client, 'data', { signal: AbortSignal.timeout(5000) });
  assert.equal(answer.toString(), 'answer');
});
