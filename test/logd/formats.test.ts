import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AccessRecord } from '../../src/logd/access_record.ts';
import { formatCombined, formatFor, formatJson, formatLine, timeLocal } from '../../src/logd/formats.ts';

const record: AccessRecord = {
  remote: '10.0.0.7',
  time: Date.UTC(2024, 2, 5, 13, 4, 9, 250),
  method: 'GET',
  url: '/a b?q="x"',
  httpVersion: '1.1',
  status: 404,
  bytes: 153,
  referer: undefined,
  userAgent: 'curl/8.5.0',
  durationMs: 1.23456,
};

test('combined is nginx combined: fields, quoting, - for a missing header', () => {
  const line = formatCombined(record);
  assert.equal(line, `10.0.0.7 - - [${timeLocal(record.time)}] "GET /a b?q=\\x22x\\x22 HTTP/1.1" 404 153 "-" "curl/8.5.0"`);
  assert.equal(formatCombined({ ...record, referer: '' }).includes(' "" "curl'), true, 'an empty header is "" as in nginx');
});

test("combined escapes like nginx's ngx_http_log_escape: \" \\ control bytes and bytes from 0x7f, uppercase hex", () => {
  const line = formatCombined({ ...record, url: '/\\\x01\x7f\xe9', userAgent: 'ü\u{1F600}' });
  assert.match(line, /"GET \/\\x5C\\x01\\x7F\\xE9 HTTP\/1\.1"/);
  // a character beyond latin1 (an app-built string) is logged as its UTF-8 bytes
  assert.match(line, /"\\xFC\\xF0\\x9F\\x98\\x80"$/);
  assert.match(line, /^[\x20-\x7e]*$/);
});

test('combined prints status and byte counts exactly, up to the largest safe integer; nonsense is 0', () => {
  const bytesOf = (bytes: number): string => formatCombined({ ...record, url: '/', bytes }).split(' ')[9]!;
  for (const n of [0, 7, 10, 99, 100, 2 ** 31 - 1, 2 ** 31, 2 ** 32 + 5, Number.MAX_SAFE_INTEGER]) assert.equal(bytesOf(n), String(n));
  assert.equal(bytesOf(12.7), '12');
  for (const n of [-1, NaN, Infinity, 2 ** 53]) assert.equal(bytesOf(n), '0');
  assert.equal(formatCombined({ ...record, url: '/', status: 503 }).split(' ')[8], '503');
});

test('$time_local has the day, month name, year, time and the UTC offset of this machine', () => {
  const d = new Date(record.time);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const hh = String(Math.floor(Math.abs(offset) / 60)).padStart(2, '0');
  const mm = String(Math.abs(offset) % 60).padStart(2, '0');
  const expected = `${String(d.getDate()).padStart(2, '0')}/${d.toLocaleString('en-US', { month: 'short' })}/${d.getFullYear()}:${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}:${String(d.getSeconds()).padStart(2, '0')} ${sign}${hh}${mm}`;
  assert.equal(timeLocal(record.time), expected);
  assert.equal(timeLocal(record.time + 1000) === expected, false, 'the next second is a new string');
});

test('json is one object per line, ASCII only, and parses back to the record', () => {
  const line = formatJson({ ...record, userAgent: 'ü\n', referer: 'http://r/' });
  assert.match(line, /^[\x20-\x7e]*$/);
  assert.deepEqual(JSON.parse(line), {
    time: '2024-03-05T13:04:09.250Z',
    remote: '10.0.0.7',
    method: 'GET',
    url: '/a b?q="x"',
    httpVersion: '1.1',
    status: 404,
    bytes: 153,
    referer: 'http://r/',
    userAgent: 'ü\n',
    durationMs: 1.235,
  });
  assert.equal(JSON.parse(formatJson(record)).referer, null);
});

test('huge fields are cut so that a line always fits in one protocol line, whatever their characters', () => {
  for (const unit of ['é', 'a', '"', '\x01', 'あ', '\u{1F600}', '\ud800']) {
    const huge = unit.repeat(100_000);
    const all = { ...record, url: huge, userAgent: huge, referer: huge, method: huge, remote: huge, httpVersion: huge };
    for (const format of ['combined', 'json'] as const) {
      const line = formatLine(format, all);
      assert.ok(line.length + 2 <= 65535, `line of ${line.length} bytes`);
      assert.match(line, /^[\x20-\x7e]*$/);
      // the bound the client reserves room by is a bound: a longer line would have been cut short above
      assert.ok(formatFor(format).maxBytes(all) > line.length, `${format}: maxBytes covers the line`);
      assert.ok(format === 'combined' || JSON.parse(line), 'json parses');
    }
  }
});

test('combined: a field is cut between escapes, never inside one; a lone surrogate is U+FFFD', () => {
  const line = formatCombined({ ...record, userAgent: 'あ'.repeat(10_000) });
  assert.match(line, /"(\\xE3\\x81\\x82)+"$/);
  assert.match(formatCombined({ ...record, userAgent: 'a\ud800b' }), /"a\\xEF\\xBF\\xBDb"$/);
});
