// withStatic in front of an app: files first and the app for the rest, or a prefix that is files
// only; the root checked when the handler is made.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { HerdError } from '../../src/errors.ts';
import { withStatic } from '../../src/http/static/index.ts';
import type { Handler } from '../../src/http/types.ts';
import { buildTree, request, serveFast, serveNode, staticOptions } from './tree.ts';

// Drains its body the portable way (for await), so it runs on both engines.
const app: Handler = async (req, res) => {
  for await (const chunk of req) void chunk;
  res.setHeader('Content-Type', 'text/plain');
  res.end(`app ${req.method} ${req.url}`);
};

test('without a prefix: files first, everything else (missing, bad path, other methods) to the app', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree), app);
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'hello world\n');
  assert.equal((await request(port, '/')).body.toString(), '<h1>home</h1>\n');
  assert.equal((await request(port, '/api/users?id=1')).body.toString(), 'app GET /api/users?id=1');
  assert.equal((await request(port, '/.env')).body.toString(), 'app GET /.env');
  assert.equal((await request(port, '/items/a%2Fb')).body.toString(), 'app GET /items/a%2Fb');
  assert.equal((await request(port, '/docs/')).body.toString(), 'app GET /docs/');
  const post = await request(port, '/hello.txt', { 'Content-Length': '0' }, 'POST');
  assert.equal(post.status, 200);
  assert.equal(post.body.toString(), 'app POST /hello.txt');
});

test('with a prefix: under it files only (404 when missing, 405 for methods), the rest to the app', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree, { prefix: '/assets/', autoindex: true }), app);
  assert.equal((await request(port, '/assets/hello.txt')).body.toString(), 'hello world\n');
  assert.equal((await request(port, '/assets/hello.txt?v=2')).body.toString(), 'hello world\n');
  assert.equal((await request(port, '/assets/missing.txt')).status, 404);
  assert.equal((await request(port, '/assets/.env')).status, 404);
  assert.equal((await request(port, '/assets/%2e%2e/outside/secret.txt')).status, 400);
  assert.equal((await request(port, '/assets/hello.txt', {}, 'DELETE')).status, 405);
  const bare = await request(port, '/assets?x=1');
  assert.equal(bare.status, 301);
  assert.equal(bare.headers.location, '/assets/?x=1');
  assert.equal((await request(port, '/assets/nested')).headers.location, '/assets/nested/');
  assert.match((await request(port, '/assets/docs/')).body.toString(), /<title>Index of \/assets\/docs\/<\/title>/);
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'app GET /hello.txt');
  assert.equal((await request(port, '/assetsx/hello.txt')).body.toString(), 'app GET /assetsx/hello.txt');
});

test('without an app: 404 for what is not a file, also outside the prefix', async (t) => {
  const tree = buildTree(t);
  const top = await serveFast(t, staticOptions(tree));
  assert.equal((await request(top, '/api/users')).status, 404);
  const mounted = await serveFast(t, staticOptions(tree, { prefix: '/static' }));
  assert.equal((await request(mounted, '/static/hello.txt')).body.toString(), 'hello world\n');
  assert.equal((await request(mounted, '/hello.txt')).status, 404);
  assert.equal((await request(mounted, '/hello.txt', {}, 'POST')).status, 404);
});

test('the root is checked when the handler is made: missing or not a directory is one clear HerdError', (t) => {
  const tree = buildTree(t);
  const expectError = (root: string, pattern: RegExp): void => {
    assert.throws(
      () => withStatic(staticOptions(tree, { root }), null),
      (error: unknown) => error instanceof HerdError && pattern.test(error.message) && !error.message.includes('\n'),
    );
  };
  expectError(path.join(tree.base, 'nope'), /static root .*nope does not exist/);
  expectError(path.join(tree.root, 'hello.txt'), /static root .*hello\.txt is not a directory/);
  assert.throws(() => withStatic(staticOptions(tree, { prefix: 'assets' }), null), HerdError);
  // A root reached through a symlink is served, and its own files are inside it.
  fs.symlinkSync(tree.root, path.join(tree.base, 'root-link'));
  assert.equal(typeof withStatic(staticOptions(tree, { root: path.join(tree.base, 'root-link') }), null), 'function');
});

test('a root reached through a symlink serves its files, still refuses links leading out', async (t) => {
  const tree = buildTree(t);
  const link = path.join(tree.base, 'root-link');
  fs.symlinkSync(tree.root, link);
  const port = await serveFast(t, staticOptions(tree, { root: link }));
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'hello world\n');
  assert.equal((await request(port, '/link-out.txt')).status, 404);
});

test('on the node engine: files, HEAD, 304, 206, 405, redirect and the app behind', async (t) => {
  const tree = buildTree(t);
  const port = await serveNode(t, staticOptions(tree, { cacheControl: 'max-age=5' }), app);
  const get = await request(port, '/hello.txt');
  assert.equal(get.status, 200);
  assert.equal(get.body.toString(), 'hello world\n');
  assert.equal(get.headers['content-type'], 'text/plain; charset=utf-8');
  assert.equal(get.headers['cache-control'], 'max-age=5');
  const head = await request(port, '/big.bin', {}, 'HEAD');
  assert.equal(head.headers['content-length'], String(tree.big.length));
  assert.equal(head.body.length, 0);
  assert.equal((await request(port, '/hello.txt', { 'If-None-Match': get.headers.etag })).status, 304);
  const range = await request(port, '/big.bin', { Range: 'bytes=100-199' });
  assert.equal(range.status, 206);
  assert.deepEqual(range.body, tree.big.subarray(100, 200));
  assert.deepEqual((await request(port, '/big.bin')).body, tree.big);
  assert.equal((await request(port, '/nested')).headers.location, '/nested/');
  assert.equal((await request(port, '/api')).body.toString(), 'app GET /api');
  const mounted = await serveNode(t, staticOptions(tree, { prefix: '/s' }), null);
  assert.equal((await request(mounted, '/s/hello.txt', {}, 'PUT')).status, 405);
});
