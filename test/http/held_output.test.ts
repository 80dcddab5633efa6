// Output held by a pipelined response before its turn: sent in order, and 'drain' owed only when
// the writer was told to wait and the connection took everything below its own mark.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HeldOutput } from '../../src/http/held_output.ts';

function channel(below: boolean): { sent: string[]; send(data: Buffer): boolean } {
  const sent: string[] = [];
  return { sent, send: (data) => (sent.push(data.toString()), below) };
}

test('held buffers go out in order; no drain owed while under the mark', () => {
  const held = new HeldOutput();
  assert.equal(held.hold(Buffer.from('a')), true);
  assert.equal(held.hold(Buffer.from('b')), true);
  const to = channel(true);
  assert.equal(held.release(to), false);
  assert.deepEqual(to.sent, ['a', 'b']);
});

test('past 16 KiB the writer is told to wait; drain is owed on release unless the connection is full too', () => {
  const big = Buffer.alloc(16 * 1024);
  const held = new HeldOutput();
  assert.equal(held.hold(big), false);
  assert.equal(held.release(channel(true)), true);

  const again = new HeldOutput();
  again.hold(big);
  assert.equal(again.release(channel(false)), false, "the connection fires 'drain' itself once its output is written");
});
