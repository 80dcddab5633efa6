import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestParser, DEFAULT_LIMITS } from '../../src/http/parser.ts';
import type { ParseFailure, ParserSink } from '../../src/http/parser.ts';
import type { RequestHead } from '../../src/http/request_head.ts';
import { VALID, INVALID, INVALID_PREFIXES, TEST_BODY_LIMIT } from './corpus.ts';

interface Message {
  method: string;
  url: string;
  httpVersion: string;
  keepAlive: boolean;
  headers: Record<string, unknown>;
  body: string;
  complete: boolean;
}

/** Records everything the parser reports, in a form two runs can be compared by. */
class Recorder implements ParserSink {
  messages: Message[] = [];
  failures: ParseFailure[] = [];
  private bodyParts: Buffer[] = [];
  onHead(head: RequestHead): void {
    this.bodyParts = [];
    this.messages.push({
      method: head.method,
      url: head.url,
      httpVersion: head.httpVersion,
      keepAlive: head.keepAlive,
      headers: { ...head.headers() },
      body: '',
      complete: false,
    });
  }
  onBody(chunk: Buffer): void {
    this.bodyParts.push(Buffer.from(chunk));
  }
  onMessageEnd(): void {
    const m = this.messages[this.messages.length - 1];
    m.body = Buffer.concat(this.bodyParts).toString('latin1');
    m.complete = true;
  }
  onParseError(failure: ParseFailure): void {
    this.failures.push(failure);
  }
}

const limits = { ...DEFAULT_LIMITS, bodyLimit: TEST_BODY_LIMIT };

interface Outcome {
  messages: Message[];
  failures: ParseFailure[];
}

function parseInPieces(raw: Buffer, cuts: number[]): Outcome {
  const recorder = new Recorder();
  const parser = new RequestParser(recorder, limits);
  let from = 0;
  for (const cut of [...cuts, raw.length]) {
    parser.execute(raw.subarray(from, cut));
    from = cut;
  }
  return { messages: recorder.messages, failures: recorder.failures };
}

function bytes(raw: string): Buffer {
  return Buffer.from(raw, 'latin1');
}

test('every valid request parses to what the corpus says', () => {
  for (const c of VALID) {
    const r = parseInPieces(bytes(c.raw), []);
    assert.deepEqual(r.failures, [], c.name);
    assert.equal(r.messages.length, 1, c.name);
    const m = r.messages[0];
    assert.equal(m.method, c.method, c.name);
    assert.equal(m.url, c.url, c.name);
    assert.equal(m.httpVersion, c.httpVersion, c.name);
    assert.equal(m.keepAlive, c.keepAlive, c.name);
    assert.equal(m.body, c.body, c.name);
    assert.ok(m.complete, c.name);
    for (const [name, value] of Object.entries(c.headers)) assert.deepEqual(m.headers[name], value, `${c.name}: ${name}`);
  }
});

test('every corpus request split at every byte boundary parses the same as whole', () => {
  for (const c of [...VALID, ...INVALID]) {
    const raw = bytes(c.raw);
    const whole = parseInPieces(raw, []);
    // Long requests: every boundary near the start and the end, and every 97th in between.
    for (let cut = 0; cut <= raw.length; cut++) {
      if (raw.length > 600 && cut > 300 && cut < raw.length - 300 && cut % 97 !== 0) continue;
      assert.deepEqual(parseInPieces(raw, [cut]), whole, `${c.name} split at ${cut}`);
    }
  }
});

test('byte-at-a-time parsing matches whole parsing', () => {
  for (const c of [...VALID, ...INVALID]) {
    const raw = bytes(c.raw);
    if (raw.length > 2000) continue;
    const cuts = Array.from({ length: raw.length - 1 }, (_, k) => k + 1);
    assert.deepEqual(parseInPieces(raw, cuts), parseInPieces(raw, []), c.name);
  }
});

test('a pipeline of mixed requests yields each message in order, at every split', () => {
  const keepAlive = VALID.filter((c) => c.keepAlive);
  const raw = bytes(keepAlive.map((c) => c.raw).join(''));
  const whole = parseInPieces(raw, []);
  assert.deepEqual(whole.failures, []);
  assert.deepEqual(whole.messages.map((m) => m.url), keepAlive.map((c) => c.url));
  assert.deepEqual(whole.messages.map((m) => m.body), keepAlive.map((c) => c.body));
  for (let cut = 1; cut < raw.length; cut += 7) {
    assert.deepEqual(parseInPieces(raw, [cut, Math.min(raw.length, cut + 13)]), whole, `split at ${cut}`);
  }
});

test('a request that does not keep the connection alive stops the parser', () => {
  const raw = bytes('GET /1 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\n');
  const r = parseInPieces(raw, []);
  assert.deepEqual(r.messages.map((m) => m.url), ['/1']);
  assert.deepEqual(r.failures, []);
});

test('a pipeline ending in a bad request reports the good ones, then the error', () => {
  const raw = bytes(VALID[0].raw + VALID[2].raw + 'GET / HTTP/1.1\r\nHost: h\r\nBad Header: x\r\n\r\n' + VALID[0].raw);
  const r = parseInPieces(raw, []);
  assert.equal(r.messages.length, 2);
  assert.deepEqual(r.failures.map((f) => f.status), [400]);
});

test('each error class gets its status', () => {
  for (const c of INVALID) {
    const r = parseInPieces(bytes(c.raw), []);
    assert.equal(r.failures.length, 1, `${c.name}: ${JSON.stringify(r.failures)}`);
    assert.equal(r.failures[0].status, c.status, `${c.name}: ${r.failures[0].reason}`);
  }
});

test('each invalid prefix is refused at its last byte, not before, however it is split', () => {
  for (const c of INVALID_PREFIXES) {
    const raw = bytes(c.raw);
    const before = parseInPieces(raw.subarray(0, raw.length - 1), []);
    assert.deepEqual(before.failures, [], `${c.name}: refused before its last byte`);
    const whole = parseInPieces(raw, []);
    assert.equal(whole.failures.length, 1, `${c.name}: not refused`);
    assert.equal(whole.failures[0].status, c.status, `${c.name}: ${whole.failures[0].reason}`);
    const step = raw.length > 600 ? 97 : 1;
    for (let cut = 1; cut < raw.length; cut += step) assert.deepEqual(parseInPieces(raw, [cut]), whole, `${c.name} split at ${cut}`);
  }
});

test('a head split over many reads keeps the fields the parser acts on', () => {
  const raw = bytes('POST /split HTTP/1.1\r\nHOST: h\r\nUser-Agent: ua/1 \r\nReferer: http://r/\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc');
  const cuts = Array.from({ length: raw.length - 1 }, (_, k) => k + 1);
  const recorder = new Recorder();
  let head: RequestHead | null = null;
  const parser = new RequestParser({ ...recorder, onHead: (h: RequestHead) => { head = h; recorder.onHead(h); }, onBody: (b) => recorder.onBody(b), onMessageEnd: () => recorder.onMessageEnd(), onParseError: (f) => recorder.onParseError(f) }, limits);
  let from = 0;
  for (const cut of [...cuts, raw.length]) {
    parser.execute(raw.subarray(from, cut));
    from = cut;
  }
  assert.deepEqual(recorder.failures, []);
  assert.ok(head !== null);
  const h = head as RequestHead;
  assert.equal(h.userAgent(), 'ua/1');
  assert.equal(h.referer(), 'http://r/');
  assert.equal(h.keepAlive, false);
  assert.equal(recorder.messages[0].body, 'abc');
});

test('an over-long request line is refused before it is complete', () => {
  const r = parseInPieces(bytes('GET /' + 'a'.repeat(9000)), []);
  assert.equal(r.failures[0]?.status, 414);
  const h = parseInPieces(bytes('GET / HTTP/1.1\r\nHost: h\r\nX: ' + 'a'.repeat(17000)), []);
  assert.equal(h.failures[0]?.status, 431);
});

test('limits are inclusive: an 8 KiB request line and exactly 100 headers pass', () => {
  const target = '/' + 'a'.repeat(8 * 1024 - 'GET  HTTP/1.1'.length - 1);
  const line = `GET ${target} HTTP/1.1`;
  assert.equal(line.length, 8 * 1024);
  const headers = Array.from({ length: 99 }, (_, k) => `X-${k}: v\r\n`).join('');
  const r = parseInPieces(bytes(`${line}\r\nHost: h\r\n${headers}\r\n`), []);
  assert.deepEqual(r.failures, []);
  assert.equal(Object.keys(r.messages[0].headers).length, 100);
});

test('the body limit is inclusive', () => {
  const body = 'a'.repeat(TEST_BODY_LIMIT);
  const r = parseInPieces(bytes(`POST / HTTP/1.1\r\nHost: h\r\nContent-Length: ${body.length}\r\n\r\n${body}`), []);
  assert.deepEqual(r.failures, []);
  assert.equal(r.messages[0].body.length, TEST_BODY_LIMIT);
});

test('a header named __proto__ is a plain field', () => {
  const r = parseInPieces(bytes('GET / HTTP/1.1\r\nHost: h\r\n__proto__: x\r\n\r\n'), []);
  assert.equal(r.messages[0].headers['__proto__'], 'x');
});
