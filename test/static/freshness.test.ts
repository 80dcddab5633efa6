// The in-memory cache notices changes on disk: rewritten, grown past the cache limit, deleted,
// created after a 404. With the default tuning a change shows within the 1 s revalidation bound.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_TUNING } from '../../src/http/static/index.ts';
import { buildTree, request, serveFast, staticOptions } from './tree.ts';

const ALWAYS_CHECK = { ...DEFAULT_TUNING, revalidateMs: 0 };

test('with the default tuning, a file changed on disk is served fresh after the revalidation bound', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree));
  const file = path.join(tree.root, 'hello.txt');
  const before = await request(port, '/hello.txt');
  assert.equal(before.body.toString(), 'hello world\n');
  fs.writeFileSync(file, 'changed content, longer\n');
  await sleep(DEFAULT_TUNING.revalidateMs + 100);
  const after = await request(port, '/hello.txt');
  assert.equal(after.body.toString(), 'changed content, longer\n');
  assert.notEqual(after.headers.etag, before.headers.etag);
  // The old validator no longer gives 304.
  assert.equal((await request(port, '/hello.txt', { 'If-None-Match': before.headers.etag })).status, 200);
});

test('rewritten (same size), replaced, grown past the cache, shrunk, deleted, created: each seen', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree), null, ALWAYS_CHECK);
  const file = path.join(tree.root, 'hello.txt');
  // Stat sees a same-size rewrite only through mtime, which has the filesystem's timestamp
  // granularity: date the original back so the rewrite cannot land in the same tick.
  const past = new Date(Date.now() - 10_000);
  fs.utimesSync(file, past, past);
  const first = await request(port, '/hello.txt');

  fs.writeFileSync(file, 'HELLO WORLD\n'); // same size
  const sameSize = await request(port, '/hello.txt');
  assert.equal(sameSize.body.toString(), 'HELLO WORLD\n');
  assert.notEqual(sameSize.headers.etag, first.headers.etag);

  fs.writeFileSync(path.join(tree.base, 'replacement'), 'renamed over\n');
  fs.renameSync(path.join(tree.base, 'replacement'), file);
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'renamed over\n');

  const large = Buffer.alloc(DEFAULT_TUNING.maxCachedFileBytes + 1, 0x61);
  fs.writeFileSync(file, large);
  assert.deepEqual((await request(port, '/hello.txt')).body, large);
  fs.writeFileSync(file, 'small again\n');
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'small again\n');

  fs.unlinkSync(file);
  assert.equal((await request(port, '/hello.txt')).status, 404);
  fs.writeFileSync(file, 'back\n');
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'back\n');

  assert.equal((await request(port, '/new/')).status, 404);
  fs.mkdirSync(path.join(tree.root, 'new'));
  fs.writeFileSync(path.join(tree.root, 'new', 'index.html'), 'new index\n');
  assert.equal((await request(port, '/new/')).body.toString(), 'new index\n');
});

test('a large file replaced between lookups is streamed with the headers of what is sent', async (t) => {
  const tree = buildTree(t);
  // Lookups trusted for a long time: the stream's own open must notice the change.
  const port = await serveFast(t, staticOptions(tree), null, { ...DEFAULT_TUNING, revalidateMs: 60_000 });
  const first = await request(port, '/big.bin');
  assert.deepEqual(first.body, tree.big);
  const replacement = Buffer.alloc(tree.big.length + 4096, 0x42);
  fs.writeFileSync(path.join(tree.root, 'big.bin'), replacement);
  const second = await request(port, '/big.bin');
  assert.equal(second.headers['content-length'], String(replacement.length));
  assert.deepEqual(second.body, replacement);
  assert.notEqual(second.headers.etag, first.headers.etag);
});
