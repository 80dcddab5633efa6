// The same portable handler on both engines, the same raw requests: the responses must agree on
// status, the headers that matter and the body. Where the fast engine is stricter than node:http
// (llhttp in node's lenient defaults), the difference is listed here, with node's answer pinned.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type http from 'node:http';
import { createFastEngine } from '../../src/http/engine.ts';
import { createNodeEngine } from '../../src/worker/node_engine.ts';
import portableApp from './fixtures/portable_app.ts';
import { VALID, INVALID } from './corpus.ts';
import { exchange, listen, parseResponses, TEST_OPTIONS } from './wire.ts';
import type { WireResponse } from './wire.ts';

/** Requests node:http answers differently, and what it answers (status; 200 means it let the request through). */
const NODE_DIFFERS: Record<string, number> = {
  'two spaces in the request line': 200,
  'unknown method': 400, // the fast engine says 501 Not Implemented
  'HTTP/1.2': 400, // the fast engine says 505
  'HTTP/2.0': 200,
  'request line over 8 KiB': 200, // node only limits the whole head (16 KiB)
  'more than 100 headers': 200, // node's maxHeadersCount is 2000
  'chunked body over the limit': 400, // the node engine bounds a declared length only (--body-limit)
  'Content-Length of 16 digits': 200, // node reads leading zeros; the fast engine refuses what a double may not hold exactly
  'chunk extension with an empty name': 200, // RFC 9112 7.1.1: the name is a token, at least one byte
};

const EXTRA_REQUESTS = [
  'GET /hello HTTP/1.1\r\nHost: h\r\n\r\n',
  'HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n',
  'GET /status/404 HTTP/1.1\r\nHost: h\r\n\r\n',
  'GET /status/204 HTTP/1.1\r\nHost: h\r\n\r\n',
  'GET /status/500 HTTP/1.0\r\n\r\n',
  'GET /stream HTTP/1.1\r\nHost: h\r\n\r\n',
  'GET /stream HTTP/1.0\r\n\r\n',
  'GET /cookies HTTP/1.1\r\nHost: h\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 12\r\n\r\n\xff\xfe binary \x00\x01',
];

/**
 * What must agree between engines: framing (Content-Length vs chunked) and Date may differ, and
 * so may keep-alive for HTTP/1.0 (node closes 1.0 keep-alive connections after an async answer).
 */
function comparable(r: WireResponse, http10: boolean): object {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(r.headers)) {
    if (name === 'content-type' || name === 'set-cookie' || name.startsWith('x-')) headers[name] = value;
  }
  return { status: r.status, headers, close: http10 || r.headers.connection === 'close', body: r.body.toString('latin1') };
}

/** The method of a single request (leading empty lines allowed). */
function methodsOf(raw: string): string[] {
  return [/^(?:\r\n)*([A-Z]+) /.exec(raw)?.[1] ?? 'GET'];
}

test('the portable handler answers the same on the fast and the node engine', async (t) => {
  const fastPort = await listen(t, createFastEngine(portableApp, TEST_OPTIONS));
  const nodePort = await listen(t, createNodeEngine(portableApp as unknown as http.RequestListener, TEST_OPTIONS));

  const valid = VALID.filter((c) => NODE_DIFFERS[c.name] === undefined);
  const requests = [...valid.map((c) => c.raw), ...EXTRA_REQUESTS];
  for (const raw of requests) {
    const methods = methodsOf(raw);
    const fast = parseResponses(await exchange(fastPort, raw), methods).filter((r) => r.status >= 200);
    const node = parseResponses(await exchange(nodePort, raw), methods).filter((r) => r.status >= 200);
    assert.equal(fast.length, 1, raw);
    const http10 = raw.includes('HTTP/1.0\r\n');
    assert.deepEqual(fast.map((r) => comparable(r, http10)), node.map((r) => comparable(r, http10)), JSON.stringify(raw));
  }

  // The same requests pipelined on one connection (1.1 only: node closes after a 1.0 keep-alive answer).
  const kept = valid.filter((c) => c.keepAlive && c.httpVersion === '1.1');
  const pipelined = kept.map((c) => c.raw).join('') + EXTRA_REQUESTS.slice(0, 4).join('');
  const methods = [...kept.map((c) => c.method), ...EXTRA_REQUESTS.slice(0, 4).flatMap(methodsOf)];
  const fast = parseResponses(await exchange(fastPort, pipelined), methods).filter((r) => r.status >= 200);
  const node = parseResponses(await exchange(nodePort, pipelined), methods).filter((r) => r.status >= 200);
  assert.equal(fast.length, methods.length);
  assert.deepEqual(fast.map((r) => comparable(r, false)), node.map((r) => comparable(r, false)));
});

test('invalid requests: the fast engine answers its status and closes; node agrees except where listed', async (t) => {
  const original = console.error;
  console.error = () => {}; // node's handler logs aborted bodies
  t.after(() => (console.error = original));
  const fastPort = await listen(t, createFastEngine(portableApp, TEST_OPTIONS));
  const nodePort = await listen(t, createNodeEngine(portableApp as unknown as http.RequestListener, TEST_OPTIONS));
  for (const c of [...INVALID, ...VALID.filter((v) => NODE_DIFFERS[v.name] !== undefined)]) {
    const fast = parseResponses(await exchange(fastPort, c.raw), methodsOf(c.raw));
    const node = parseResponses(await exchange(nodePort, c.raw), methodsOf(c.raw));
    const expected = 'status' in c ? c.status : 200;
    assert.deepEqual(fast.map((r) => r.status), [expected], c.name);
    if (expected >= 400) assert.equal(fast[0].headers.connection, 'close', c.name);
    const nodeStatus = node.filter((r) => r.status >= 200)[0]?.status;
    assert.equal(nodeStatus, NODE_DIFFERS[c.name] ?? expected, `node's answer to '${c.name}'`);
  }
});
