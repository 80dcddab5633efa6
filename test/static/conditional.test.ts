// Conditional requests (304, 412) and Range (206, 416), on a cached file and on a streamed one.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTree, request, serveFast, staticOptions } from './tree.ts';

test('If-None-Match and If-Modified-Since give 304 with the validators and no body', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree, { cacheControl: 'no-cache' }));
  for (const target of ['/hello.txt', '/big.bin']) {
    const first = await request(port, target);
    const { etag } = first.headers;
    const lastModified = first.headers['last-modified'];
    const later = new Date(Date.parse(lastModified) + 60_000).toUTCString();
    const earlier = new Date(Date.parse(lastModified) - 60_000).toUTCString();
    const notModified: Record<string, string>[] = [
      { 'If-None-Match': etag },
      { 'If-None-Match': `"nope", ${etag}` },
      { 'If-None-Match': `W/${etag}` },
      { 'If-None-Match': '*' },
      { 'If-Modified-Since': lastModified },
      { 'If-Modified-Since': later },
    ];
    for (const headers of notModified) {
      const r = await request(port, target, headers);
      assert.equal(r.status, 304, `${target} ${JSON.stringify(headers)}`);
      assert.equal(r.body.length, 0);
      assert.equal(r.headers.etag, etag);
      assert.equal(r.headers['last-modified'], lastModified);
      assert.equal(r.headers['cache-control'], 'no-cache');
      assert.equal(r.headers['content-length'], undefined);
    }
    const modified: Record<string, string>[] = [
      { 'If-None-Match': '"other"' },
      { 'If-Modified-Since': earlier },
      { 'If-Modified-Since': 'not a date' },
      // If-None-Match wins over If-Modified-Since (RFC 9110 13.2.2).
      { 'If-None-Match': '"other"', 'If-Modified-Since': later },
    ];
    for (const headers of modified) {
      const r = await request(port, target, headers);
      assert.equal(r.status, 200, `${target} ${JSON.stringify(headers)}`);
      assert.equal(r.body.length, first.body.length);
    }
    const head = await request(port, target, { 'If-None-Match': etag }, 'HEAD');
    assert.equal(head.status, 304);
    assert.equal((await request(port, target, { 'If-Match': '"other"' })).status, 412);
    assert.equal((await request(port, target, { 'If-Match': etag })).status, 200);
    assert.equal((await request(port, target, { 'If-Unmodified-Since': earlier })).status, 412);
  }
});

test('a single Range gets 206 with the exact bytes; unsatisfiable gets 416; the rest gets 200', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree));
  const small = Buffer.from('hello world\n');
  const files: [string, Buffer][] = [
    ['/hello.txt', small],
    ['/big.bin', tree.big],
  ];
  for (const [target, content] of files) {
    const size = content.length;
    const ranges: [string, number, number][] = [
      ['bytes=0-4', 0, 4],
      ['bytes=6-', 6, size - 1],
      ['bytes=-5', size - 5, size - 1],
      ['bytes=3-3', 3, 3],
      [`bytes=2-${size + 1000}`, 2, size - 1],
      [`bytes=-${size + 10}`, 0, size - 1],
      ['bytes = 1 - 2', 1, 2],
    ];
    if (size > 1_000_000) ranges.push(['bytes=1000000-1200000', 1_000_000, 1_200_000]);
    for (const [range, start, end] of ranges) {
      const r = await request(port, target, { Range: range });
      assert.equal(r.status, 206, `${target} ${range}`);
      assert.equal(r.headers['content-range'], `bytes ${start}-${end}/${size}`, `${target} ${range}`);
      assert.equal(r.headers['content-length'], String(end - start + 1));
      assert.deepEqual(r.body, content.subarray(start, end + 1), `${target} ${range}`);
    }
    for (const range of [`bytes=${size}-`, `bytes=${size + 5}-${size + 9}`, 'bytes=-0']) {
      const r = await request(port, target, { Range: range });
      assert.equal(r.status, 416, `${target} ${range}`);
      assert.equal(r.headers['content-range'], `bytes */${size}`);
    }
    for (const range of ['bytes=0-1,4-5', 'items=0-1', 'bytes=5-2', 'bytes=x-y', 'bytes=-']) {
      const r = await request(port, target, { Range: range });
      assert.equal(r.status, 200, `${target} ${range}`);
      assert.equal(r.body.length, size);
    }
    const { etag } = (await request(port, target)).headers;
    const lastModified = (await request(port, target)).headers['last-modified'];
    assert.equal((await request(port, target, { Range: 'bytes=0-1', 'If-Range': etag })).status, 206);
    assert.equal((await request(port, target, { Range: 'bytes=0-1', 'If-Range': lastModified })).status, 206);
    assert.equal((await request(port, target, { Range: 'bytes=0-1', 'If-Range': '"stale"' })).status, 200);
    assert.equal((await request(port, target, { Range: 'bytes=0-1', 'If-Range': `W/${etag}` })).status, 200);
    const head = await request(port, target, { Range: 'bytes=0-1' }, 'HEAD');
    assert.equal(head.status, 200, 'HEAD ignores Range');
    assert.equal(head.headers['content-length'], String(size));
  }
  const empty = await request(port, '/empty.txt', { Range: 'bytes=0-' });
  assert.equal(empty.status, 416);
  assert.equal(empty.headers['content-range'], 'bytes */0');
});
