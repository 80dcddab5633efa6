// What `--static DIR` answers for each kind of path, on the fast engine: files with their types,
// index.html, redirects, listings, dotfiles, symlinks, methods, HEAD, keep-alive and pipelining.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_TUNING } from '../../src/http/static/index.ts';
import { Client, exchange, parseResponses } from '../http/wire.ts';
import { buildTree, request, serveFast, staticOptions } from './tree.ts';

test('files are served with their content, type (charset for text), length and validators', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree));
  const cases: [string, string, string][] = [
    ['/hello.txt', 'hello.txt', 'text/plain; charset=utf-8'],
    ['/style.css', 'style.css', 'text/css; charset=utf-8'],
    ['/app.js', 'app.js', 'text/javascript; charset=utf-8'],
    ['/data.json', 'data.json', 'application/json; charset=utf-8'],
    ['/logo.png', 'logo.png', 'image/png'],
    ['/noext', 'noext', 'application/octet-stream'],
    ['/space%20name.txt', 'space name.txt', 'text/plain; charset=utf-8'],
    ['/caf%C3%A9.txt', 'café.txt', 'text/plain; charset=utf-8'],
    ['/nested/deep/leaf.txt', 'nested/deep/leaf.txt', 'text/plain; charset=utf-8'],
    ['/hello.txt?version=3', 'hello.txt', 'text/plain; charset=utf-8'],
    ['//nested//deep/leaf.txt', 'nested/deep/leaf.txt', 'text/plain; charset=utf-8'],
  ];
  for (const [target, file, type] of cases) {
    const r = await request(port, target);
    const expected = fs.readFileSync(path.join(tree.root, file));
    assert.equal(r.status, 200, target);
    assert.deepEqual(r.body, expected, target);
    assert.equal(r.headers['content-type'], type, target);
    assert.equal(r.headers['content-length'], String(expected.length), target);
    assert.match(r.headers.etag, /^"[0-9a-f]+-[0-9a-f]+"$/, target);
    const mtime = Math.floor(fs.statSync(path.join(tree.root, file)).mtimeMs / 1000) * 1000;
    assert.equal(r.headers['last-modified'], new Date(mtime).toUTCString(), target);
    assert.equal(r.headers['accept-ranges'], 'bytes', target);
    assert.equal(r.headers['cache-control'], undefined, target);
  }
  // Raw UTF-8 bytes in the target are refused by the engine's parser, as strict parsers do (RFC 9112
  // 3.2: the target is ASCII); percent-encoded, as above, the same file is served.
  assert.equal((await request(port, Buffer.from('/café.txt').toString('latin1'))).status, 400);

  const empty = await request(port, '/empty.txt');
  assert.equal(empty.status, 200);
  assert.equal(empty.headers['content-length'], '0');
});

test('directories: index.html, 301 to add the slash (query kept), 404 without index or autoindex', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree));
  const home = await request(port, '/');
  assert.equal(home.status, 200);
  assert.equal(home.body.toString(), '<h1>home</h1>\n');
  assert.equal(home.headers['content-type'], 'text/html; charset=utf-8');
  const nested = await request(port, '/nested/');
  assert.equal(nested.body.toString(), '<p>nested</p>\n');
  const redirect = await request(port, '/nested?x=1');
  assert.equal(redirect.status, 301);
  assert.equal(redirect.headers.location, '/nested/?x=1');
  const encoded = await request(port, '/docs/sub');
  assert.equal(encoded.headers.location, '/docs/sub/');
  // A doubled slash must not become a protocol-relative redirect to another host.
  const doubled = await request(port, '//docs');
  assert.equal(doubled.status, 301);
  assert.equal(doubled.headers.location, '/docs/');
  assert.equal((await request(port, '/docs/')).status, 404);
  assert.equal((await request(port, '/hello.txt/')).status, 404);
  assert.equal((await request(port, '/missing.txt')).status, 404);
  assert.equal((await request(port, '/missing/')).status, 404);
});

test('autoindex lists a directory without its dotfiles, names escaped and links encoded', async (t) => {
  const tree = buildTree(t);
  fs.writeFileSync(path.join(tree.root, 'docs', '<b>&.txt'), 'x');
  const port = await serveFast(t, staticOptions(tree, { autoindex: true }), null, { ...DEFAULT_TUNING, revalidateMs: 0 });
  const r = await request(port, '/docs/');
  assert.equal(r.status, 200);
  assert.equal(r.headers['content-type'], 'text/html; charset=utf-8');
  const html = r.body.toString();
  assert.match(html, /<title>Index of \/docs\/<\/title>/);
  assert.match(html, /<a href="sub\/">sub\/<\/a>/);
  assert.match(html, /<a href="a.txt">a.txt<\/a>/);
  assert.match(html, /<a href="%3Cb%3E%26.txt">&#60;b&#62;&#38;.txt<\/a>/);
  assert.match(html, /<a href="..\/">..\/<\/a>/);
  assert.doesNotMatch(html, /hidden/);
  // Links leading outside are not listed unless followed; links inside are.
  fs.symlinkSync('../../outside/secret.txt', path.join(tree.root, 'docs', 'out.txt'));
  fs.symlinkSync('a.txt', path.join(tree.root, 'docs', 'in.txt'));
  const relisted = (await request(port, '/docs/')).body.toString();
  assert.match(relisted, /<a href="in.txt">in.txt<\/a>/);
  assert.doesNotMatch(relisted, /out\.txt/);
  // index.html still wins over the listing.
  assert.equal((await request(port, '/nested/')).body.toString(), '<p>nested</p>\n');
});

test('dotfiles and dot-directories are hidden', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree, { autoindex: true }));
  for (const target of ['/.env', '/.git/config', '/.git/', '/docs/.hidden', '/%2eenv', '/.git']) {
    const r = await request(port, target);
    assert.equal(r.status, 404, target);
    assert.ok(!r.body.includes(tree.secret), target);
  }
});

test('symlinks: inside the root served, leading outside refused unless followSymlinks', async (t) => {
  const tree = buildTree(t);
  const strict = await serveFast(t, staticOptions(tree));
  assert.equal((await request(strict, '/link-in.txt')).body.toString(), 'hello world\n');
  for (const target of ['/link-out.txt', '/dir-out/secret.txt', '/dir-out/', '/dir-out']) {
    const r = await request(strict, target);
    assert.equal(r.status, 404, target);
    assert.ok(!r.body.includes(tree.secret), target);
  }
  const following = await serveFast(t, staticOptions(tree, { followSymlinks: true }));
  assert.equal((await request(following, '/link-out.txt')).body.toString(), tree.secret);
  assert.equal((await request(following, '/dir-out/secret.txt')).body.toString(), tree.secret);
});

test('other methods get 405 with Allow; HEAD gets the GET headers and no body', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree, { cacheControl: 'public, max-age=60' }));
  for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH']) {
    const r = await request(port, '/hello.txt', { 'Content-Length': '0' }, method);
    assert.equal(r.status, 405, method);
    assert.equal(r.headers.allow, 'GET, HEAD', method);
  }
  const get = await request(port, '/hello.txt');
  const head = await request(port, '/hello.txt', {}, 'HEAD');
  assert.equal(head.status, 200);
  assert.equal(head.body.length, 0);
  for (const name of ['content-type', 'content-length', 'etag', 'last-modified', 'cache-control', 'accept-ranges']) {
    assert.equal(head.headers[name], get.headers[name], name);
  }
  assert.equal(get.headers['cache-control'], 'public, max-age=60');
  const bigHead = await request(port, '/big.bin', {}, 'HEAD');
  assert.equal(bigHead.headers['content-length'], String(tree.big.length));
  assert.equal(bigHead.body.length, 0);
});

test('keep-alive and pipelining: several files, cached and streamed, answered in order on one connection', async (t) => {
  const tree = buildTree(t);
  const port = await serveFast(t, staticOptions(tree));
  const targets = ['/hello.txt', '/big.bin', '/missing', '/style.css', '/nested', '/big.bin', '/'];
  const raw = targets.map((target) => `GET ${target} HTTP/1.1\r\nHost: h\r\n\r\n`).join('');
  const responses = parseResponses(await exchange(port, raw, { timeoutMs: 15_000 }));
  assert.deepEqual(responses.map((r) => r.status), [200, 200, 404, 200, 301, 200, 200]);
  assert.deepEqual(responses[1].body, tree.big);
  assert.deepEqual(responses[5].body, tree.big);
  assert.equal(responses[3].body.toString(), 'body { color: red }\n');
  const client = await Client.connect(port);
  t.after(() => client.close());
  for (let k = 0; k < 3; k++) {
    client.send('GET /hello.txt HTTP/1.1\r\nHost: h\r\n\r\n');
    const [r] = await client.responses(1);
    assert.equal(r.body.toString(), 'hello world\n');
  }
  assert.equal(client.closed, false);
});
