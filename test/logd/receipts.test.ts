import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ReceiptParser, encodeAck, encodeAnnounce, encodeGreeting, horizons, wireBytesForFileBytes, type Receipt } from '../../src/logd/receipts.ts';

test("each earlier epoch's horizon is the start of the first later daemon that reported one", () => {
  const starts = [
    { epoch: 0, ino: 5, size: 0 },
    { epoch: 1, ino: 5, size: 100 },
    // epoch 2 died before it reported: its horizon and epoch 1's come from epoch 3
    { epoch: 3, ino: 5, size: 250 },
  ];
  assert.deepEqual(horizons(4, [...starts, { epoch: 4, ino: 6, size: 0 }]), [
    { epoch: 0, ino: 5, size: 100 },
    { epoch: 1, ino: 5, size: 250 },
    { epoch: 2, ino: 5, size: 250 },
    { epoch: 3, ino: 6, size: 0 },
  ]);
  assert.deepEqual(horizons(0, starts), []);
});

test('receipts round-trip through the parser, split anywhere', () => {
  const text = encodeGreeting(2, [{ epoch: 0, ino: 9, size: 10 }]) + encodeAnnounce(40, 9, 10, 48) + encodeAck(40) + 'garbage\n';
  for (let i = 0; i <= text.length; i++) {
    const got: Receipt[] = [];
    const p = new ReceiptParser((r) => got.push(r));
    p.push(Buffer.from(text.slice(0, i)));
    p.push(Buffer.from(text.slice(i)));
    assert.deepEqual(got, [
      { kind: 'horizon', epoch: 0, ino: 9, size: 10 },
      { kind: 'epoch', epoch: 2 },
      { kind: 'announce', wire: 40, ino: 9, from: 10, to: 48 },
      { kind: 'ack', wire: 40 },
    ]);
  }
});

test('file bytes map back to whole L lines, never part of one', () => {
  const wire = Buffer.from('Labc\nLde\nLfghij\n');
  assert.equal(wireBytesForFileBytes(wire, 0, wire.length, 0), 0);
  assert.equal(wireBytesForFileBytes(wire, 0, wire.length, 4), 5); // "abc\n"
  assert.equal(wireBytesForFileBytes(wire, 0, wire.length, 6), 5); // "abc\nde" is not a whole second line
  assert.equal(wireBytesForFileBytes(wire, 0, wire.length, 7), 9);
  assert.equal(wireBytesForFileBytes(wire, 0, wire.length, 13), wire.length);
  assert.equal(wireBytesForFileBytes(wire, 5, wire.length, 3), 4);
});
