// TLS on an accepted handle with no socket around it, against a real tls client on loopback: the
// handshake, decrypted reads, writes and FIN; the wrap kept alive by its handle alone (a garbage
// collection in the middle of the connection must not take it); a protocol error reported; two
// writes in one turn (one at a time to the TLSWrap); a write on a reset connection.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import v8 from 'node:v8';
import vm from 'node:vm';
import { acceptHandles, attachHandle, closeHandle, writeBuffer, writeBuffers } from '../../src/uv/stream_handle.ts';
import type { HandleOwner, StreamHandle } from '../../src/uv/stream_handle.ts';
import { wrapTls } from '../../src/uv/tls_handle.ts';
import { WRITE_PENDING } from '../../src/uv/writer.ts';
import { makeCertificate, opensslMissing } from '../transport/certificates.ts';
import { tempDir } from '../support/herd_process.ts';

const skip = opensslMissing() ?? false;
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Waits for `done()`, a few seconds at most. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A server whose accepted handles are wrapped in TLS and given to what `own` makes of them. */
async function tlsHandleServer(t: import('node:test').TestContext, own: (handle: StreamHandle) => HandleOwner): Promise<{ port: number; pem: Buffer }> {
  const cert = makeCertificate(tempDir(t), 'server');
  const context = tls.createSecureContext({ cert: cert.pem, key: fs.readFileSync(cert.key) });
  const server = net.createServer();
  server.on('listening', () =>
    acceptHandles(server, (raw) => {
      const handle = wrapTls(raw, context, Buffer.from('\x08http/1.1', 'latin1'));
      // Only the handle's own link keeps the owner (and the wrap) alive from here.
      assert.equal(attachHandle(handle, own(handle)), 0);
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  return { port: (server.address() as net.AddressInfo).port, pem: cert.pem };
}

test('a TLS handle: handshake, decrypted reads, a write, FIN; a garbage collection mid-connection takes nothing', { skip }, async (t) => {
  const seen: string[] = [];
  const { port, pem } = await tlsHandleServer(t, (handle) => ({
    onData: (data, length) => {
      const text = data.toString('latin1', 0, length);
      seen.push(text);
      if (text.includes('ping')) writeBuffer(handle, Buffer.from('pong'));
    },
    onEnd: () => {
      seen.push('<end>');
      closeHandle(handle);
    },
    onFailure: (errno) => seen.push(`<failure ${errno}>`),
    onWritten: () => {},
  }));
  const client = tls.connect({ port, host: '127.0.0.1', ca: pem, ALPNProtocols: ['h2', 'http/1.1'] });
  t.after(() => client.destroy());
  await once(client, 'secureConnect', { signal: AbortSignal.timeout(5000) });
  assert.equal(client.alpnProtocol, 'http/1.1', 'ALPN offers HTTP/1.1 only');
  gc();
  gc();
  let received = '';
  client.on('data', (d: Buffer) => (received += d.toString('latin1')));
  client.write('ping');
  await until(() => received === 'pong', 'the answer');
  assert.deepEqual(seen, ['ping']);
  const closed = once(client, 'close', { signal: AbortSignal.timeout(5000) });
  client.end();
  await until(() => seen.includes('<end>'), 'FIN to reach the owner');
  await closed;
});

test('a TLS handle: bytes that are not TLS are a failure for the owner, not silence', { skip }, async (t) => {
  const failures: number[] = [];
  const { port } = await tlsHandleServer(t, (handle) => ({
    onData: () => {},
    onEnd: () => closeHandle(handle),
    onFailure: (errno) => {
      failures.push(errno);
      closeHandle(handle);
    },
    onWritten: () => {},
  }));
  const client = net.connect(port, '127.0.0.1', () => client.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n'));
  t.after(() => client.destroy());
  client.on('error', () => {});
  await once(client, 'close', { signal: AbortSignal.timeout(5000) });
  assert.equal(failures.length, 1);
  assert.ok(failures[0] < 0, `a negative errno, not ${failures[0]}`);
});

test('a TLS handle takes two writes in one turn (a TLSWrap alone would abort): both arrive in order, each completes', { skip }, async (t) => {
  const written: number[] = [];
  const { port, pem } = await tlsHandleServer(t, (handle) => ({
    onData: () => {
      assert.equal(writeBuffer(handle, Buffer.from('first,')), WRITE_PENDING);
      assert.equal(writeBuffers(handle, [Buffer.from('second,'), Buffer.from('third')], 12), WRITE_PENDING);
    },
    onEnd: () => closeHandle(handle),
    onFailure: () => closeHandle(handle),
    onWritten: (bytes) => written.push(bytes),
  }));
  const client = tls.connect({ port, host: '127.0.0.1', ca: pem });
  t.after(() => client.destroy());
  let received = '';
  client.on('data', (d: Buffer) => (received += d.toString('latin1')));
  client.write('go');
  await until(() => received === 'first,second,third' && written.length === 2, 'both writes');
  assert.deepEqual(written, [6, 12]);
});

test('a TLS handle whose peer is gone: its writes fail with an errno (at once or reported), no exception', { skip }, async (t) => {
  let result: number | null = null;
  let handleOf: StreamHandle | null = null;
  let greeted = false;
  const failures: number[] = [];
  const { port, pem } = await tlsHandleServer(t, (handle) => {
    handleOf = handle;
    // Stays open whatever it hears, so the writes below meet the reset.
    return { onData: () => (greeted = true), onEnd: () => {}, onFailure: (errno) => failures.push(errno), onWritten: () => {} };
  });
  t.after(() => {
    if (handleOf !== null) closeHandle(handleOf);
  });
  const raw = net.connect(port, '127.0.0.1');
  t.after(() => raw.destroy());
  const client = tls.connect({ socket: raw, ca: pem, servername: 'localhost' });
  client.on('error', () => {});
  await once(client, 'secureConnect', { signal: AbortSignal.timeout(5000) });
  client.write('hello');
  await until(() => greeted, 'the server to read it');
  raw.resetAndDestroy();
  await until(() => failures.length > 0, 'the reset to be read');
  const heard = failures.length;
  // The first write after a reset may still reach the kernel; one of these meets the dead socket.
  for (let k = 0; k < 20 && (result === null || result >= 0) && failures.length === heard; k++) {
    result = writeBuffer(handleOf!, Buffer.alloc(64 * 1024, 'x'));
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok((result !== null && result < 0) || failures.length > heard, `a failure, not ${result}`);
  assert.ok(failures.every((errno) => errno < 0));
});
