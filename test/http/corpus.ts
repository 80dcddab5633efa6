// Raw requests shared by the parser, differential and fuzz tests: valid ones with what they must
// parse to, invalid ones with the status the fast engine answers.

export interface ValidRequest {
  name: string;
  raw: string;
  method: string;
  url: string;
  httpVersion: string;
  keepAlive: boolean;
  /** A subset of the decoded headers that must be present as given. */
  headers: Record<string, string | string[]>;
  body: string;
}

export interface InvalidRequest {
  name: string;
  raw: string;
  status: number;
}

/** Body limit the tests configure, so 413 is cheap to provoke. */
export const TEST_BODY_LIMIT = 4096;

export const VALID: ValidRequest[] = [
  {
    name: 'plain GET',
    raw: 'GET / HTTP/1.1\r\nHost: example.test\r\n\r\n',
    method: 'GET', url: '/', httpVersion: '1.1', keepAlive: true, headers: { host: 'example.test' }, body: '',
  },
  {
    name: 'GET with query and repeated headers',
    raw:
      'GET /search?q=a+b&x=%20 HTTP/1.1\r\nHost: h\r\nUser-Agent: test/1.0\r\nAccept: text/html\r\nAccept: text/plain\r\n' +
      'Cookie: a=1\r\nCookie: b=2\r\nContent-Type: first\r\nContent-Type: second\r\nSet-Cookie: s=1\r\nSet-Cookie: t=2\r\n\r\n',
    method: 'GET', url: '/search?q=a+b&x=%20', httpVersion: '1.1', keepAlive: true,
    headers: { 'user-agent': 'test/1.0', accept: 'text/html, text/plain', cookie: 'a=1; b=2', 'content-type': 'first', 'set-cookie': ['s=1', 't=2'] },
    body: '',
  },
  {
    name: 'POST with Content-Length',
    raw: 'POST /echo HTTP/1.1\r\nHost: h\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n\r\nhello world',
    method: 'POST', url: '/echo', httpVersion: '1.1', keepAlive: true, headers: { 'content-length': '11' }, body: 'hello world',
  },
  {
    name: 'POST chunked with extension and trailers',
    raw:
      'POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '5;name=value\r\nhello\r\n1\r\n \r\nA\r\n0123456789\r\n0\r\nX-Trailer: yes\r\nX-Other: 1\r\n\r\n',
    method: 'POST', url: '/echo', httpVersion: '1.1', keepAlive: true, headers: { 'transfer-encoding': 'chunked' }, body: 'hello 0123456789',
  },
  {
    name: 'chunk extensions: several, quoted',
    raw:
      'POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n' +
      '3;a;b="q \\" ;x";c=d\r\nabc\r\n0;last\r\n\r\n',
    method: 'POST', url: '/echo', httpVersion: '1.1', keepAlive: true, headers: {}, body: 'abc',
  },
  {
    name: 'chunked with upper-case hex and gzip before chunked',
    raw: 'PUT /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, CHUNKED\r\n\r\n1F\r\n' + 'x'.repeat(31) + '\r\n0\r\n\r\n',
    method: 'PUT', url: '/echo', httpVersion: '1.1', keepAlive: true, headers: {}, body: 'x'.repeat(31),
  },
  {
    name: 'HTTP/1.0 without Host',
    raw: 'GET /old HTTP/1.0\r\n\r\n',
    method: 'GET', url: '/old', httpVersion: '1.0', keepAlive: false, headers: {}, body: '',
  },
  {
    name: 'HTTP/1.0 keep-alive',
    raw: 'GET /old HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n',
    method: 'GET', url: '/old', httpVersion: '1.0', keepAlive: true, headers: { connection: 'Keep-Alive' }, body: '',
  },
  {
    name: 'HTTP/1.1 Connection: close',
    raw: 'GET /bye HTTP/1.1\r\nHost: h\r\nConnection: upgrade, close\r\n\r\n',
    method: 'GET', url: '/bye', httpVersion: '1.1', keepAlive: false, headers: {}, body: '',
  },
  {
    name: 'HEAD',
    raw: 'HEAD /hello HTTP/1.1\r\nHost: h\r\n\r\n',
    method: 'HEAD', url: '/hello', httpVersion: '1.1', keepAlive: true, headers: {}, body: '',
  },
  {
    name: 'OPTIONS *',
    raw: 'OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n',
    method: 'OPTIONS', url: '*', httpVersion: '1.1', keepAlive: true, headers: {}, body: '',
  },
  {
    name: 'empty lines before the request line',
    raw: '\r\n\r\nGET /after-crlf HTTP/1.1\r\nHost: h\r\n\r\n',
    method: 'GET', url: '/after-crlf', httpVersion: '1.1', keepAlive: true, headers: {}, body: '',
  },
  {
    name: 'obs-text, tabs and surrounding whitespace in values',
    raw: 'GET /v HTTP/1.1\r\nHost: h\r\nX-Latin: caf\xe9\r\nX-Space: \t a \t b \t\r\nX-Empty:\r\n\r\n',
    method: 'GET', url: '/v', httpVersion: '1.1', keepAlive: true, headers: { 'x-latin': 'caf\xe9', 'x-space': 'a \t b', 'x-empty': '' }, body: '',
  },
  {
    name: 'mixed-case names, DELETE, zero length',
    raw: 'DELETE /item/7 HTTP/1.1\r\nhOsT: h\r\nCONTENT-LENGTH: 0\r\nX-Request-ID: 42\r\n\r\n',
    method: 'DELETE', url: '/item/7', httpVersion: '1.1', keepAlive: true, headers: { host: 'h', 'x-request-id': '42' }, body: '',
  },
  {
    name: 'Expect: 100-continue',
    raw: 'POST /echo HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\nping',
    method: 'POST', url: '/echo', httpVersion: '1.1', keepAlive: true, headers: { expect: '100-continue' }, body: 'ping',
  },
  {
    name: 'absolute-form target and PATCH',
    raw: 'PATCH http://example.test/x?y=1 HTTP/1.1\r\nHost: example.test\r\nContent-Length: 2\r\n\r\n{}',
    method: 'PATCH', url: 'http://example.test/x?y=1', httpVersion: '1.1', keepAlive: true, headers: {}, body: '{}',
  },
];

const longTarget = '/' + 'a'.repeat(8 * 1024);
const bigHeaders = 'X-Big: ' + 'b'.repeat(16 * 1024) + '\r\n';
const manyHeaders = Array.from({ length: 101 }, (_, k) => `X-H${k}: ${k}\r\n`).join('');

export const INVALID: InvalidRequest[] = [
  { name: 'two spaces in the request line', raw: 'GET  / HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'bare LF line endings', raw: 'GET / HTTP/1.1\nHost: h\n\n', status: 400 },
  { name: 'bare LF ending a header', raw: 'GET / HTTP/1.1\r\nHost: h\n\r\n', status: 400 },
  { name: 'CR without LF', raw: 'GET / HTTP/1.1\r\nHost: h\rX: y\r\n\r\n', status: 400 },
  { name: 'method with an invalid character', raw: 'G(T / HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'unknown method', raw: 'BREW /pot HTTP/1.1\r\nHost: h\r\n\r\n', status: 501 },
  { name: 'control character in the target', raw: 'GET /a\x01b HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'missing target', raw: 'GET HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'malformed version', raw: 'GET / HTTP/1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'lower-case version', raw: 'GET / http/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'HTTP/1.2', raw: 'GET / HTTP/1.2\r\nHost: h\r\n\r\n', status: 505 },
  { name: 'HTTP/2.0', raw: 'GET / HTTP/2.0\r\nHost: h\r\n\r\n', status: 505 },
  { name: 'space before the colon', raw: 'GET / HTTP/1.1\r\nHost : h\r\n\r\n', status: 400 },
  { name: 'invalid header name', raw: 'GET / HTTP/1.1\r\nHost: h\r\nBad[Name]: x\r\n\r\n', status: 400 },
  { name: 'header line without colon', raw: 'GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n', status: 400 },
  { name: 'NUL in a header value', raw: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x00b\r\n\r\n', status: 400 },
  { name: 'DEL in a header value', raw: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x7fb\r\n\r\n', status: 400 },
  { name: 'obs-fold', raw: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n  continued\r\n\r\n', status: 400 },
  { name: 'missing Host on 1.1', raw: 'GET / HTTP/1.1\r\nAccept: */*\r\n\r\n', status: 400 },
  { name: 'two Host headers', raw: 'GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400 },
  { name: 'Content-Length and Transfer-Encoding', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'identical duplicate Content-Length', raw: 'POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc', status: 400 },
  { name: 'differing Content-Length', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', status: 400 },
  { name: 'Content-Length with a letter', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1a\r\n\r\na', status: 400 },
  { name: 'negative Content-Length', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n', status: 400 },
  { name: 'Content-Length list', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 1\r\n\r\na', status: 400 },
  { name: 'Transfer-Encoding not ending with chunked', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding gzip only', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n', status: 400 },
  { name: 'chunked twice', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'Transfer-Encoding on HTTP/1.0', raw: 'POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', status: 400 },
  { name: 'non-hex chunk size', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', status: 400 },
  { name: 'chunk size with a space', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 \r\nhello\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk size too long', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000000\r\n', status: 400 },
  { name: 'chunk data without CRLF', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcX\r\n0\r\n\r\n', status: 400 },
  { name: 'malformed trailer', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nBad Trailer\r\n\r\n', status: 400 },
  { name: 'request line over 8 KiB', raw: `GET ${longTarget} HTTP/1.1\r\nHost: h\r\n\r\n`, status: 414 },
  { name: 'header block over 16 KiB', raw: `GET / HTTP/1.1\r\nHost: h\r\n${bigHeaders}\r\n`, status: 431 },
  { name: 'more than 100 headers', raw: `GET / HTTP/1.1\r\nHost: h\r\n${manyHeaders}\r\n`, status: 431 },
  { name: 'Content-Length over the body limit', raw: `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${TEST_BODY_LIMIT + 1}\r\n\r\n`, status: 413 },
  {
    name: 'chunked body over the limit',
    raw: `POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n${(TEST_BODY_LIMIT / 2).toString(16)}\r\n${'a'.repeat(TEST_BODY_LIMIT / 2)}\r\n${(TEST_BODY_LIMIT / 2 + 1).toString(16)}\r\n`,
    status: 413,
  },
  { name: 'raw UTF-8 in the target', raw: 'GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n', status: 400 },
  { name: 'Content-Length of 16 digits', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0000000000000001\r\n\r\na', status: 400 },
  { name: 'a bare ; chunk extension', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;\r\na\r\n0\r\n\r\n', status: 400 },
  { name: 'chunk extension with an empty name', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1;=x\r\na\r\n0\r\n\r\n', status: 400 },
  { name: 'unknown expectation', raw: 'POST / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\na', status: 417 },
];

/**
 * Inputs that can no longer become a valid request at byte `at` (the last byte of `raw`): the
 * parser must refuse them at that byte, with no line end or head end to wait for.
 */
export interface InvalidPrefix {
  name: string;
  raw: string;
  status: number;
}

const clientHello = '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03';

export const INVALID_PREFIXES: InvalidPrefix[] = [
  { name: 'TLS ClientHello on the plain port', raw: clientHello.slice(0, 1), status: 400 },
  { name: 'garbage', raw: '\x00', status: 400 },
  { name: 'a lone LF', raw: '\n', status: 400 },
  { name: 'method with an invalid character', raw: 'G(', status: 400 },
  { name: 'unknown method', raw: 'BREW ', status: 501 },
  { name: 'two spaces after the method', raw: 'GET  ', status: 400 },
  { name: 'raw UTF-8 in the target', raw: 'GET /caf\xc3', status: 400 },
  { name: 'control byte in the target', raw: 'GET /\x01', status: 400 },
  { name: 'lower-case version', raw: 'GET / h', status: 400 },
  { name: 'HTTP/5.6 without a line end', raw: 'GET / HTTP/5', status: 505 },
  { name: 'HTTP/1.2 without a line end', raw: 'GET / HTTP/1.2', status: 505 },
  { name: 'version followed by a space', raw: 'GET / HTTP/1.1 ', status: 400 },
  { name: 'CR not followed by LF after the request line', raw: 'GET / HTTP/1.1\rX', status: 400 },
  { name: 'bare LF after the request line', raw: 'GET / HTTP/1.1\n', status: 400 },
  { name: 'space at the start of a header line', raw: 'GET / HTTP/1.1\r\nHost: h\r\n ', status: 400 },
  { name: 'space at the start of the first header line', raw: 'GET / HTTP/1.1\r\n\t', status: 400 },
  { name: 'space in a header name', raw: 'GET / HTTP/1.1\r\nHost: h\r\nBad ', status: 400 },
  { name: 'NUL in a header value', raw: 'GET / HTTP/1.1\r\nHost: h\r\nX: a\x00', status: 400 },
  { name: 'CR not followed by LF after a header', raw: 'GET / HTTP/1.1\r\nHost: h\rX', status: 400 },
  { name: 'CR not followed by LF ending the head', raw: 'GET / HTTP/1.1\r\nHost: h\r\n\rX', status: 400 },
  { name: 'a second Host', raw: 'GET / HTTP/1.1\r\nHost: a\r\nhost:', status: 400 },
  { name: 'Content-Length of 16 digits (too large to represent)', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0000000000000000', status: 400 },
  { name: 'Content-Length with a sign', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -', status: 400 },
  { name: 'Content-Length list', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1,', status: 400 },
  { name: 'a second Content-Length', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length:', status: 400 },
  { name: 'Content-Length over the body limit', raw: `POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${TEST_BODY_LIMIT + 1}`, status: 413 },
  { name: 'Transfer-Encoding after Content-Length', raw: 'POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding:', status: 400 },
  { name: 'Transfer-Encoding on HTTP/1.0', raw: 'POST / HTTP/1.0\r\nTransfer-Encoding:', status: 400 },
  { name: 'a coding after chunked', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r', status: 400 },
  { name: 'request line over 8 KiB', raw: 'GET /' + 'a'.repeat(8 * 1024 - 4), status: 414 },
  { name: 'header block over 16 KiB', raw: 'GET / HTTP/1.1\r\nHost: h\r\nX: ' + 'a'.repeat(16 * 1024 - 'Host: h\r\nX: '.length + 1), status: 431 },
  { name: 'a bare ; chunk extension', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;\r', status: 400 },
  { name: 'chunk extension name without a value', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\r', status: 400 },
  { name: 'control byte in a quoted chunk extension', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a="\x01', status: 400 },
  { name: 'whitespace after a chunk size', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5 ', status: 400 },
  { name: 'whitespace in a chunk extension', raw: 'POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;a ', status: 400 },
];
