// The HPACK pieces of herd bench's HTTP/2 client: a response's :status read from the first field of
// its header block in every form RFC 7541 allows (static index, literal, Huffman-coded), and the
// request block encoded without touching any dynamic table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeStatus, encodeHeaderBlock } from '../../src/bench/h2_framing.ts';

const status = (...bytes: number[]): number => decodeStatus(Uint8Array.from(bytes), 0, bytes.length);

test(':status by static index, after a dynamic table size update to 0', () => {
  assert.equal(status(0x88), 200);
  assert.equal(status(0x8d), 404);
  assert.equal(status(0x20, 0x88), 200); // size update 0, then :status 200
  assert.equal(status(0x3f, 0xe1, 0x1f, 0x88), -1); // size update to 4096: the client asked for 0
});

test(':status as a literal, plain and Huffman-coded, with or without indexing', () => {
  assert.equal(status(0x08, 0x03, 0x32, 0x30, 0x31), 201); // without indexing, name index 8, "201"
  assert.equal(status(0x48, 0x03, 0x35, 0x30, 0x33), 503); // incremental indexing
  assert.equal(status(0x18, 0x82, 0x64, 0x02), 302); // never indexed, Huffman "302": 011001 00000 00010
  assert.equal(status(0x08, 0x82, 0x10, 0x03), 201); // Huffman "201" and one bit of EOS padding
  assert.equal(status(0x08, 0x82, 0x10, 0x02), -1); // padding that is not all ones
  assert.equal(status(0x08, 0x81, 0x53), -1); // Huffman 'e'-like bits: not digits
  assert.equal(status(0x08, 0x02, 0x32, 0x30), -1); // two digits
});

test('a block that does not start with :status, or names the dynamic table, has no status', () => {
  assert.equal(status(0x82), -1); // :method GET
  assert.equal(status(0xbe), -1); // index 62: dynamic table, which is 0 bytes here
  assert.equal(status(0x0f, 0x10, 0x03, 0x32, 0x30, 0x30), -1); // content-length (index 28) first
  assert.equal(status(0x08, 0x03, 0x32), -1); // cut short
  assert.equal(status(), -1);
});

test('the request block: static full matches as one byte, other fields as literals never indexed', () => {
  const block = encodeHeaderBlock([[':method', 'GET'], [':scheme', 'http'], [':path', '/a'], ['x-name', 'v']]);
  assert.deepEqual([...block], [
    0x82, 0x86, // :method GET, :scheme http
    0x04, 0x02, 0x2f, 0x61, // :path by name index 4, literal "/a"
    0x00, 0x06, ...Buffer.from('x-name'), 0x01, 0x76, // a new name, literal
  ]);
  const long = encodeHeaderBlock([['user-agent', 'x'.repeat(200)]]);
  assert.deepEqual([...long.subarray(0, 4)], [0x0f, 0x2b, 0x7f, 0x49]); // index 58 = 15 + 43; length 200 = 127 + 73
});
