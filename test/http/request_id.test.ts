// --request-id on both engines: a valid X-Request-Id is kept, anything else replaced by a new one, and
// the app, the response and the access log (combined_id, json) all carry the same id.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { isValidRequestId, newRequestId } from '../../src/http/request_id.ts';
import { fixture, startHerd, tempDir } from '../support/herd_process.ts';
import { request, waitFor } from '../support/http_client.ts';

test('valid ids: printable ASCII without spaces, 1 to 200 bytes; made ids are unique', () => {
  assert.ok(isValidRequestId('abc-123_XYZ.~'));
  assert.ok(isValidRequestId('x'.repeat(200)));
  for (const bad of ['', 'x'.repeat(201), 'a b', 'tab\there', 'é', 'new\nline', ['a', 'b'], undefined]) assert.equal(isValidRequestId(bad), false, String(bad));
  const ids = new Set(Array.from({ length: 1000 }, newRequestId));
  assert.equal(ids.size, 1000);
  for (const id of ids) assert.ok(isValidRequestId(id));
});

for (const engine of ['fast', 'node'] as const) {
  test(`${engine} engine: kept, made or replaced, and the same id everywhere`, { timeout: 30_000 }, async (t) => {
    const dir = tempDir(t);
    const combined = path.join(dir, 'access.log');
    const herd = await startHerd(t, [fixture('request_id_echo.js'), '--engine', engine, '--workers', '1', '--request-id', '--access-log', combined, '--access-log-format', 'combined_id']);
    const kept = await request(herd.url, '/kept', 10_000, 'X-Request-Id: lb-4711\r\n');
    assert.equal(kept.headers['x-request-id'], 'lb-4711');
    assert.equal(kept.body, 'lb-4711');
    const made = await request(herd.url, '/made');
    assert.match(made.headers['x-request-id'], /^[0-9a-f]{12}-[0-9a-z]+$/);
    assert.equal(made.body, made.headers['x-request-id']);
    const replaced = await request(herd.url, '/replaced', 10_000, 'X-Request-Id: has a space\r\n');
    assert.notEqual(replaced.body, 'has a space');
    assert.equal(replaced.body, replaced.headers['x-request-id']);
    const twice = await request(herd.url, '/twice', 10_000, 'X-Request-Id: a\r\nX-Request-Id: b\r\n');
    assert.notEqual(twice.body, 'a', 'repeated, it is "a, b" as node:http joins it: not valid');

    await waitFor('four access lines', () => fs.existsSync(combined) && fs.readFileSync(combined, 'utf8').split('\n').length > 4);
    const lines = fs.readFileSync(combined, 'utf8').trim().split('\n');
    const byPath = (p: string) => lines.find((l) => l.includes(`GET ${p} `))!;
    assert.match(byPath('/kept'), /" 200 7 "-" "-" "lb-4711"$/);
    assert.ok(byPath('/made').endsWith(` "${made.body}"`));
    assert.ok(byPath('/replaced').endsWith(` "${replaced.body}"`));
  });
}

test('json access log carries requestId; without --request-id no id is added', { timeout: 30_000 }, async (t) => {
  const dir = tempDir(t);
  const json = path.join(dir, 'access.json');
  const on = await startHerd(t, [fixture('request_id_echo.js'), '--workers', '1', '--request-id', '--access-log', json, '--access-log-format', 'json']);
  const reply = await request(on.url, '/j', 10_000, 'X-Request-Id: j-1\r\n');
  assert.equal(reply.body, 'j-1');
  await waitFor('the json line', () => fs.existsSync(json) && fs.readFileSync(json, 'utf8').includes('\n'));
  assert.equal(JSON.parse(fs.readFileSync(json, 'utf8').trim()).requestId, 'j-1');

  const off = await startHerd(t, [fixture('request_id_echo.js'), '--workers', '1', '--engine', 'fast']);
  const plain = await request(off.url, '/');
  assert.equal(plain.headers['x-request-id'], undefined);
  assert.equal(plain.body, 'undefined');
});

test('fast engine: the id is spliced into cached responses too', { timeout: 30_000 }, async (t) => {
  const herd = await startHerd(t, ['--workers', '1', '--engine', 'fast', '--request-id']);
  // The built-in hello response is served from the encoded cache after the first: each still gets its own id.
  const ids = new Set<string>();
  for (let i = 0; i < 5; i++) {
    const r = await request(herd.url, '/');
    assert.equal(r.body, 'Hello, World!');
    assert.match(r.headers['x-request-id'], /^[0-9a-f]{12}-[0-9a-z]+$/);
    ids.add(r.headers['x-request-id']);
  }
  assert.equal(ids.size, 5);
});
