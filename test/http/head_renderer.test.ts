// The head renderer alone: the framing it decides from what a handler set, and the encoded
// response cache, which must serve only a response identical in every byte it depends on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FRAMING_CHUNKED, FRAMING_CLOSE, FRAMING_LENGTH, FRAMING_NONE, HeadRenderer, framedBody, withRequestId } from '../../src/http/head_renderer.ts';
import type { HeadState } from '../../src/http/head_renderer.ts';
import { NO_HEADERS, setHeaderIn } from '../../src/http/response_headers.ts';

const NOW = Date.UTC(2026, 11, 4, 12, 0, 0);

function state(over: Partial<HeadState> = {}): HeadState {
  return { statusCode: 200, statusMessage: '', headerList: NO_HEADERS, omitBody: false, versionMinor: 1, closeAfter: false, framing: FRAMING_LENGTH, declaredLength: -1, ...over };
}

test('a known body gets Content-Length, Date and keep-alive with its timeout', () => {
  const res = state({ headerList: setHeaderIn(NO_HEADERS, 'Content-Type', 'text/plain') });
  const head = new HeadRenderer(5000).render(res, 13, NOW);
  assert.equal(head, 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nDate: Fri, 04 Dec 2026 12:00:00 GMT\r\nContent-Length: 13\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\n\r\n');
  assert.equal(res.framing, FRAMING_LENGTH);
});

test('framing: streaming is chunked on HTTP/1.1, until close on HTTP/1.0; bodyless statuses and HEAD carry none', () => {
  const renderer = new HeadRenderer(5000);
  const streaming = state();
  assert.match(renderer.render(streaming, -1, NOW), /Transfer-Encoding: chunked\r\n/);
  assert.equal(streaming.framing, FRAMING_CHUNKED);

  const old = state({ versionMinor: 0 });
  assert.match(renderer.render(old, -1, NOW), /Connection: close\r\n\r\n$/);
  assert.equal(old.framing, FRAMING_CLOSE);
  assert.equal(old.closeAfter, true);

  const noContent = state({ statusCode: 204 });
  assert.doesNotMatch(renderer.render(noContent, 0, NOW), /Content-Length/);
  assert.equal(noContent.framing, FRAMING_NONE);

  const head = state({ omitBody: true });
  assert.match(renderer.render(head, 13, NOW), /Content-Length: 13\r\n/, 'a HEAD answer announces the length a GET would have had');
  assert.equal(head.framing, FRAMING_NONE);
});

test("a handler's own Content-Length and Connection: close are kept and acted on", () => {
  const res = state({ headerList: setHeaderIn(setHeaderIn(NO_HEADERS, 'Content-Length', 5), 'Connection', 'close') });
  const head = new HeadRenderer(5000).render(res, -1, NOW);
  assert.equal(res.declaredLength, 5);
  assert.equal(res.framing, FRAMING_LENGTH);
  assert.equal(res.closeAfter, true);
  assert.equal((head.match(/Connection:/g) ?? []).length, 1);
});

test('the cache serves only the same status, headers, body and connection lines, in the same second', () => {
  const renderer = new HeadRenderer(5000);
  const headers = setHeaderIn(NO_HEADERS, 'Content-Type', 'text/plain');
  const res = state({ headerList: headers });
  const head = renderer.render(res, 5, NOW);
  const bytes = Buffer.from(head + 'hello', 'latin1');
  renderer.remember(res, 'hello', 5, bytes, head.length - 2, NOW);

  const again = state({ headerList: headers, framing: FRAMING_CHUNKED });
  assert.equal(renderer.cached(again, 'hello', NOW + 10)?.bytes, bytes);
  assert.equal(again.framing, FRAMING_LENGTH);

  assert.equal(renderer.cached(state({ headerList: headers }), 'other', NOW), null, 'another body');
  assert.equal(renderer.cached(state({ headerList: headers, statusCode: 201 }), 'hello', NOW), null, 'another status');
  assert.equal(renderer.cached(state({ headerList: headers, closeAfter: true }), 'hello', NOW), null, 'Connection: close instead of keep-alive');
  assert.equal(renderer.cached(state({ headerList: setHeaderIn(NO_HEADERS, 'Content-Type', 'text/html') }), 'hello', NOW), null, 'another header value');
  assert.equal(renderer.cached(state({ headerList: headers }), 'hello', NOW + 1000), null, 'the next second: another Date');
});

test('responses with framing or Date of their own are not cached', () => {
  const renderer = new HeadRenderer(5000);
  const headers = setHeaderIn(NO_HEADERS, 'Date', 'Thu, 01 Jan 2026 00:00:00 GMT');
  const res = state({ headerList: headers });
  const head = renderer.render(res, 2, NOW);
  renderer.remember(res, 'hi', 2, Buffer.from(head + 'hi'), head.length - 2, NOW);
  assert.equal(renderer.cached(state({ headerList: headers }), 'hi', NOW), null);
});

test('a body piece is framed as chunked asks; a request id goes in before the end of the head', () => {
  assert.equal(framedBody('', Buffer.from('hello'), FRAMING_CHUNKED).toString(), '5\r\nhello\r\n');
  assert.equal(framedBody('H\r\n\r\n', Buffer.from('hello'), FRAMING_LENGTH).toString(), 'H\r\n\r\nhello');
  const whole = Buffer.from('HTTP/1.1 200 OK\r\nA: b\r\n\r\nbody');
  assert.equal(withRequestId(whole, whole.indexOf('\r\n\r\n') + 2, 'abc').toString(), 'HTTP/1.1 200 OK\r\nA: b\r\nX-Request-Id: abc\r\n\r\nbody');
});
