// The pure rules: which request targets name which key, and how a Range header reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRange } from '../../src/http/static/byte_range.ts';
import { encodeKey, parseRequestPath } from '../../src/http/static/request_path.ts';

test('targets map to keys; the careful path agrees with the fast one', () => {
  const cases: [string, string, boolean, string][] = [
    ['/a/b.txt', '/a/b.txt', false, ''],
    ['/a/b.txt?x=1&y', '/a/b.txt', false, '?x=1&y'],
    ['/', '/', true, ''],
    ['/dir/', '/dir/', true, ''],
    ['//a///b/', '/a/b/', true, ''],
    ['/%61/b%2Etxt', '/a/b.txt', false, ''],
    ['/caf%C3%A9', '/café', false, ''],
    [Buffer.from('/café').toString('latin1'), '/café', false, ''],
    ['/a%20b', '/a b', false, ''],
    ['/%25', '/%', false, ''],
    ['', '', false, ''],
    ['?q', '', false, '?q'],
  ];
  for (const [target, key, directory, query] of cases) {
    assert.deepEqual(parseRequestPath(target), { ok: true, key, directory, query }, target);
  }
});

test('unsafe targets are refused: 400 for what could move between directories, 404 for dotfiles', () => {
  const bad = ['/..', '/a/../b', '/%2e%2e/x', '/a%2fb', '/a%5cb', '/a\\b', '/a%00', '/a\x00', '/%c0%ae', '/%e0%80%ae', '/%ed%a0%80', '/%zz', '/%4', '/a b', '/a#b', 'x', 'http://h/', '*', '/.', '/a/./b', '/\u0100'];
  for (const target of bad) assert.deepEqual(parseRequestPath(target), { ok: false, status: 400 }, JSON.stringify(target));
  for (const target of ['/.env', '/a/.git/config', '/%2eenv', '/..;/x', '/...']) {
    assert.deepEqual(parseRequestPath(target), { ok: false, status: 404 }, target);
  }
  assert.equal(encodeKey('/a b/é?#'), '/a%20b/%C3%A9%3F%23');
});

test('Range: single ranges parsed and clamped; others ignored or unsatisfiable', () => {
  assert.deepEqual(parseRange('bytes=0-0', 10), { start: 0, end: 0 });
  assert.deepEqual(parseRange('bytes=5-', 10), { start: 5, end: 9 });
  assert.deepEqual(parseRange('bytes=-3', 10), { start: 7, end: 9 });
  assert.deepEqual(parseRange('bytes=8-100', 10), { start: 8, end: 9 });
  assert.deepEqual(parseRange('BYTES=1-2', 10), { start: 1, end: 2 });
  assert.equal(parseRange('bytes=10-', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=-0', 10), 'unsatisfiable');
  assert.equal(parseRange('bytes=0-', 0), 'unsatisfiable');
  for (const header of ['bytes=1-2,3-4', 'bytes=3-1', 'lines=1-2', 'bytes=', 'bytes=-', 'bytes=a-b']) assert.equal(parseRange(header, 10), 'ignore', header);
});
