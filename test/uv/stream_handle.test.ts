// The libuv stream layer on a real loopback connection: a handle taken from a net.Socket reads
// into the shared buffer, a write the kernel cannot take at once is reported pending and completes
// later with its byte count, FIN reaches the peer.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { attachHandle, closeHandle, shutdownHandle, takeHandle, writeBuffer } from '../../src/uv/stream_handle.ts';
import type { HandleOwner } from '../../src/uv/stream_handle.ts';
import { WRITE_DONE, WRITE_PENDING } from '../../src/uv/writer.ts';

/** Waits for `done()`, a few seconds at most. */
async function until(done: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('reads, a pending write and its completion, FIN: on a handle taken from a net.Socket', async (t) => {
  const server = net.createServer({ allowHalfOpen: true });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const accepted = new Promise<net.Socket>((resolve) => server.once('connection', resolve));
  const client = net.connect({ port: (server.address() as net.AddressInfo).port, host: '127.0.0.1', allowHalfOpen: true });
  t.after(() => client.destroy());
  const socket = await accepted;
  await new Promise((r) => client.once('connect', r));
  client.pause(); // fill the kernel buffers so a write goes pending

  const taken = takeHandle(socket);
  assert.ok(taken !== null);
  const handle = taken.handle;
  const seen: string[] = [];
  const written: number[] = [];
  const owner: HandleOwner = {
    onData: (data, length) => seen.push(data.toString('latin1', 0, length)),
    onEnd: () => seen.push('<end>'),
    onFailure: (errno) => seen.push(`<failure ${errno}>`),
    onWritten: (bytes) => written.push(bytes),
  };
  assert.equal(attachHandle(handle, owner), 0);
  t.after(() => closeHandle(handle));

  const chunk = Buffer.alloc(256 * 1024, 'x');
  let pendingBytes = 0;
  let writes = 0;
  for (let k = 0; k < 200 && pendingBytes === 0; k++) {
    const result = writeBuffer(handle, chunk);
    writes++;
    assert.ok(result === WRITE_DONE || result === WRITE_PENDING, `write result ${result}`);
    if (result === WRITE_PENDING) pendingBytes = chunk.length;
  }
  assert.equal(pendingBytes, chunk.length, 'the kernel never refused a write');

  let received = 0;
  client.on('data', (d: Buffer) => (received += d.length));
  client.resume();
  const ended = new Promise((r) => client.once('end', r));
  await until(() => written.length > 0, 'the pending write to complete');
  assert.deepEqual(written, [chunk.length]);
  assert.equal(shutdownHandle(handle), 0);
  await ended;
  assert.equal(received, writes * chunk.length);

  client.end('hello');
  await until(() => seen.includes('<end>'), "the client's FIN");
  assert.deepEqual(seen, ['hello', '<end>']);
});
