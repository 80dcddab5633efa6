// The fast engine's handshakes on bare handles, against real tls clients on loopback: a connection
// goes on with its first decrypted bytes (the rest follow in order), from an accepted handle or a
// handed-over socket whose first bytes were already read; one that ends or stays silent is closed
// and never goes on. No engine here: `next` stands for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { acceptHandles, attachHandle, closeHandle } from '../../src/uv/stream_handle.ts';
import type { StreamHandle } from '../../src/uv/stream_handle.ts';
import { TlsHandshakes } from '../../src/transport/tls_handshake.ts';
import { makeCertificate, opensslMissing } from './certificates.ts';
import { tempDir } from '../support/herd_process.ts';

const skip = opensslMissing() ?? false;

async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Passed {
  head: string;
  later: string;
  socket: net.Socket | null;
  handle: StreamHandle;
}

/** TlsHandshakes in front of a listening server; what goes on is read to the end and recorded. */
async function handshakeServer(t: import('node:test').TestContext, timeoutMs: number, feed: 'handles' | 'sockets') {
  const cert = makeCertificate(tempDir(t), 'server');
  const context = tls.createSecureContext({ cert: cert.pem, key: fs.readFileSync(cert.key) });
  const passed: Passed[] = [];
  let left = 0;
  const handshakes = new TlsHandshakes(context, timeoutMs, (handle, socket, head) => {
    const entry: Passed = { head: head === null ? '' : head.toString('latin1'), later: '', socket, handle };
    passed.push(entry);
    attachHandle(handle, {
      onData: (data, length) => (entry.later += data.toString('latin1', 0, length)),
      onEnd: () => {
        closeHandle(handle);
        socket?.destroy();
      },
      onFailure: () => closeHandle(handle),
      onWritten: () => {},
    });
  }, () => left++);
  const server = net.createServer();
  if (feed === 'handles') server.on('listening', () => acceptHandles(server, (handle) => handshakes.start(handle, null, null)));
  // A handed-over socket has read the ClientHello already: it goes on with those bytes buffered.
  else server.on('connection', (socket) => socket.once('readable', () => handshakes.startOnSocket(socket)));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, pem: cert.pem, passed, handshakes, left: () => left };
}

for (const feed of ['handles', 'sockets'] as const) {
  test(`a connection goes on with its first decrypted bytes, the rest after them in order (accepted ${feed})`, { skip }, async (t) => {
    const server = await handshakeServer(t, 0, feed);
    const client = tls.connect({ port: server.port, host: '127.0.0.1', ca: server.pem });
    t.after(() => client.destroy());
    await once(client, 'secureConnect', { signal: AbortSignal.timeout(5000) });
    assert.equal(server.passed.length, 0, 'a handshake alone goes nowhere: the connection is idle until its first request');
    assert.equal(server.handshakes.size, 1);
    // Three TLS records at once: the first goes on with the handle, the other two follow it.
    client.write('one ');
    client.write('two ');
    client.write('three');
    await until(() => server.passed.length === 1 && server.passed[0].head + server.passed[0].later === 'one two three', 'the bytes to go on');
    assert.equal(server.passed[0].head.startsWith('one'), true);
    assert.equal(server.handshakes.size, 0);
    assert.equal(server.left(), 1);
    const passed = server.passed[0];
    if (feed === 'sockets') assert.ok(passed.socket instanceof net.Socket, 'the socket goes on with its handle, to be destroyed at the end');
    else assert.equal(passed.socket, null);
    client.end();
    await once(client, 'close', { signal: AbortSignal.timeout(5000) });
  });
}

test('a client that closes during its handshake, or says nothing within the time, is closed and never goes on', { skip }, async (t) => {
  const server = await handshakeServer(t, 300, 'handles');
  const quitter = tls.connect({ port: server.port, host: '127.0.0.1', ca: server.pem });
  quitter.on('error', () => {});
  await once(quitter, 'secureConnect', { signal: AbortSignal.timeout(5000) });
  quitter.destroy();
  const silent = net.connect(server.port, '127.0.0.1');
  t.after(() => silent.destroy());
  silent.on('error', () => {});
  await once(silent, 'close', { signal: AbortSignal.timeout(5000) });
  await until(() => server.left() === 2, 'both handshakes to end');
  assert.equal(server.handshakes.size, 0);
  assert.equal(server.passed.length, 0);
});
