import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ResponseParser, NEED_MORE, BAD_RESPONSE } from '../../src/bench/response_parser.ts';

interface Outcome {
  /** Responses completed, with their status and whether the connection stays open. */
  responses: Array<{ status: number; keepAlive: boolean }>;
  bad: boolean;
}

/** Feeds `text` in pieces cut at `cuts`, resetting the parser after each complete response. */
function parse(text: string, opts: { cuts?: number[]; head?: boolean; eof?: boolean; http09?: boolean } = {}): Outcome {
  const bytes = Buffer.from(text, 'latin1');
  const parser = new ResponseParser();
  parser.reset(opts.head ?? false, opts.http09 ?? false);
  const out: Outcome = { responses: [], bad: false };
  const bounds = [0, ...(opts.cuts ?? []), bytes.length];
  for (let k = 0; k + 1 < bounds.length; k++) {
    let pos = bounds[k];
    const end = bounds[k + 1];
    while (pos < end) {
      const next = parser.execute(bytes, pos, end);
      if (next === NEED_MORE) break;
      if (next === BAD_RESPONSE) return { ...out, bad: true };
      out.responses.push({ status: parser.statusCode, keepAlive: parser.keepAlive });
      parser.reset(opts.head ?? false, opts.http09 ?? false);
      pos = next;
    }
  }
  if (opts.eof && parser.finishAtEof()) out.responses.push({ status: parser.statusCode, keepAlive: parser.keepAlive });
  return out;
}

const VALID: Array<[string, string, number, boolean]> = [
  ['content-length', 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-A: b\r\n\r\nhello', 200, true],
  ['chunked with extension and trailers', 'HTTP/1.1 201 Created\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n5;x=y\r\nhello\r\nA\r\n0123456789\r\n0\r\nX-T: 1\r\n\r\n', 201, true],
  ['no reason phrase', 'HTTP/1.1 204\r\n\r\n', 204, true],
  ['1.0 without keep-alive', 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok', 200, false],
  ['1.0 with keep-alive', 'HTTP/1.0 200 OK\r\nconnection: Keep-Alive\r\nContent-Length: 2\r\n\r\nok', 200, true],
  ['1.1 with close', 'HTTP/1.1 404 Not Found\r\nConnection: foo, close\r\nContent-Length: 0\r\n\r\n', 404, false],
  ['interim 100 then final', 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx', 200, true],
  ['304 without body', 'HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n', 304, true],
  ['repeated equal lengths, whitespace', 'HTTP/1.1 200 OK\r\nContent-Length:  3 \r\ncontent-length: 3\r\n\r\nabc', 200, true],
];

for (const [name, text, status, keepAlive] of VALID) {
  test(`parses ${name} split at every byte boundary`, () => {
    for (let cut = 0; cut <= text.length; cut++) {
      const out = parse(text, { cuts: [cut] });
      assert.deepEqual(out, { responses: [{ status, keepAlive }], bad: false }, `cut at ${cut}`);
    }
    // One byte at a time.
    const everyByte = parse(text, { cuts: Array.from({ length: text.length - 1 }, (_, i) => i + 1) });
    assert.deepEqual(everyByte.responses, [{ status, keepAlive }]);
  });
}

test('a pipelined stream of mixed responses yields each in order', () => {
  const stream = VALID.map(([, text]) => text).join('');
  const out = parse(stream);
  assert.equal(out.bad, false);
  assert.deepEqual(out.responses.map((r) => r.status), VALID.map(([, , status]) => status));
});

test('HEAD responses have no body even with Content-Length', () => {
  const out = parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n', { head: true });
  assert.equal(out.responses.length, 2);
});

test('a body without length is read until the close', () => {
  const text = 'HTTP/1.1 200 OK\r\nServer: x\r\n\r\nthe rest of the stream';
  assert.deepEqual(parse(text), { responses: [], bad: false });
  assert.deepEqual(parse(text, { eof: true }), { responses: [{ status: 200, keepAlive: false }], bad: false });
  // Transfer-Encoding whose last coding is not chunked is close-delimited too.
  assert.deepEqual(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\nzz', { eof: true }).responses, [{ status: 200, keepAlive: false }]);
});

test('a response cut short is not complete at EOF', () => {
  assert.deepEqual(parse('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc', { eof: true }).responses, []);
  assert.deepEqual(parse('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab', { eof: true }).responses, []);
  assert.deepEqual(parse('HTTP/1.1 200 OK\r\nContent-', { eof: true }).responses, []);
});

test('HTTP/0.9 replies are the bytes up to the close, and there must be some', () => {
  assert.deepEqual(parse('<html>hi</html>', { http09: true, eof: true }).responses.length, 1);
  assert.deepEqual(parse('', { http09: true, eof: true }).responses.length, 0);
});

const INVALID: Array<[string, string]> = [
  ['not HTTP', 'HTTX/1.1 200 OK\r\n\r\n'],
  ['HTTP/2 status line', 'HTTP/2.0 200 OK\r\n\r\n'],
  ['two-digit status', 'HTTP/1.1 20 OK\r\n\r\n'],
  ['status with a letter', 'HTTP/1.1 2x0 OK\r\n\r\n'],
  ['bare LF', 'HTTP/1.1 200 OK\nContent-Length: 0\n\n'],
  ['obs-fold', 'HTTP/1.1 200 OK\r\nX-A: b\r\n  c\r\nContent-Length: 0\r\n\r\n'],
  ['space in a header name', 'HTTP/1.1 200 OK\r\nBad Name: x\r\n\r\n'],
  ['control byte in a value', 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\n\r\n'],
  ['differing lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd'],
  ['length list', 'HTTP/1.1 200 OK\r\nContent-Length: 3, 3\r\n\r\nabc'],
  ['negative length', 'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n'],
  ['digits split by space', 'HTTP/1.1 200 OK\r\nContent-Length: 1 2\r\n\r\n'],
  ['bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
  ['chunk without CRLF after data', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n'],
  ['status below 100', 'HTTP/1.1 099 Low\r\n\r\n'],
];

for (const [name, text] of INVALID) {
  test(`refuses ${name}, whole or split at any byte boundary`, () => {
    assert.equal(parse(text, { eof: true }).bad, true);
    for (let cut = 1; cut < text.length; cut++) assert.equal(parse(text, { cuts: [cut], eof: true }).bad, true, `cut at ${cut}`);
  });
}

// A head that arrives whole is scanned line by line (wholeHead); one split across reads byte by
// byte. Both must reach the same verdict on every response, ordinary or not.
const HEADS = [
  'HTTP/1.1 200 OK\r\nServer: nginx/1.22.1\r\nDate: Fri, 04 Dec 2026 18:44:10 GMT\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: keep-alive\r\n\r\nHello, World!',
  'HTTP/1.0 200 OK\r\nCONTENT-LENGTH: 2\r\nCONNECTION: Keep-Alive\r\n\r\nok',
  'HTTP/1.1 200 OK\r\nConnection: keep-alive, close\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nConnectiox: close\r\nContent-Lengtx: 5\r\nTransfer-Encodinx: chunked\r\nContent-Length: 1\r\n\r\nx',
  'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 7\r\n\r\n1\r\nx\r\n0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length:\t4\t\r\n\r\nabcd',
  'HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 4x\r\n\r\nabcd',
  'HTTP/1.1 200 OK\r\n: empty name\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nX-A: caf\xe9\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nX-A: a\x7fb\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nX-A : b\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r',
  'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\rX',
  'HTTP/1.1 200 OK\rXContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200 OK\x01\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 200\r\n\r\n',
  'HTTP/1.1 200X\r\n\r\n',
  'HTTP/1.1  200 OK\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.x 200 OK\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 1000 OK\r\nContent-Length: 0\r\n\r\n',
  'HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\n\r\n',
  'HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nx',
  'HTTP/1.1 204 No Content\r\nContent-Length: 9\r\n\r\n',
  'HTTP/1.1 200 OK\r\nServer: x\r\n\r\nclose-delimited body',
];

for (const [index, text] of HEADS.entries()) {
  test(`a head whole and the same head byte by byte agree (#${index})`, () => {
    const everyByte = Array.from({ length: text.length - 1 }, (_, i) => i + 1);
    assert.deepEqual(parse(text, { eof: true }), parse(text, { cuts: everyByte, eof: true }));
    assert.deepEqual(parse(text + text), parse(text + text, { cuts: everyByte }));
  });
}
