// Access-log line formats. Both produce printable ASCII only, one line, no newline: a line's byte
// length is its string length (the client writes it as latin1 without measuring), and no line can
// break the L<text>\n framing.
import type { AccessRecord } from './access_record.ts';

export type AccessLogFormat = 'combined' | 'json';

export const ACCESS_LOG_FORMATS: readonly AccessLogFormat[] = ['combined', 'json'];

export type AccessLineFormatter = (record: AccessRecord) => string;

export function formatterFor(format: AccessLogFormat): AccessLineFormatter {
  return format === 'json' ? formatJson : formatCombined;
}

// A protocol line holds at most 65535 bytes (squid's fgets buffer). Escaping can make a character
// four bytes, so the free-form fields are cut before escaping: 4096 + 4 × 2048 characters, at most
// 4 bytes each, stay below the limit. nginx itself refuses request lines above 8 KiB by default.
const MAX_URL_CHARS = 4096;
const MAX_FIELD_CHARS = 2048;

/**
 * nginx's `combined`:
 * `$remote_addr - $remote_user [$time_local] "$request" $status $body_bytes_sent "$http_referer" "$http_user_agent"`
 * with nginx's escaping of variables (ngx_http_log_escape): `"`, `\`, bytes below 0x20 and from 0x7f
 * become \xHH (uppercase hex); a missing header is `-`.
 */
export function formatCombined(r: AccessRecord): string {
  const request = `${escapeField(r.method, MAX_FIELD_CHARS)} ${escapeField(r.url, MAX_URL_CHARS)} HTTP/${escapeField(r.httpVersion, 16)}`;
  return (
    `${escapeField(r.remote, MAX_FIELD_CHARS) || '-'} - - [${timeLocal(r.time)}] "${request}" ${r.status} ${r.bytes} ` +
    `"${r.referer === undefined ? '-' : escapeField(r.referer, MAX_FIELD_CHARS)}" ` +
    `"${r.userAgent === undefined ? '-' : escapeField(r.userAgent, MAX_FIELD_CHARS)}"`
  );
}

/** One JSON object per line; non-ASCII characters are \u-escaped (still valid JSON). */
export function formatJson(r: AccessRecord): string {
  const line = JSON.stringify({
    time: new Date(r.time).toISOString(),
    remote: cut(r.remote, MAX_FIELD_CHARS),
    method: cut(r.method, MAX_FIELD_CHARS),
    url: cut(r.url, MAX_URL_CHARS),
    httpVersion: cut(r.httpVersion, 16),
    status: r.status,
    bytes: r.bytes,
    referer: r.referer === undefined ? null : cut(r.referer, MAX_FIELD_CHARS),
    userAgent: r.userAgent === undefined ? null : cut(r.userAgent, MAX_FIELD_CHARS),
    durationMs: Math.round(r.durationMs * 1000) / 1000,
  });
  return NON_ASCII.test(line) ? line.replace(NON_ASCII_ALL, escapeUnicode) : line;
}

const NON_ASCII = /[^\x20-\x7e]/;
const NON_ASCII_ALL = /[^\x20-\x7e]/g;

function escapeUnicode(ch: string): string {
  return `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

function cut(value: string, max: number): string {
  return value.length > max ? value.slice(0, max) : value;
}

// Header values and URLs reach us as latin1 strings (one char per byte) from node:http; a char
// above 0xff (a string built by an app) is escaped as its UTF-8 bytes, as nginx would log them.
// u: a character outside the BMP is one match (its UTF-8 bytes), not two lone surrogates.
const NEEDS_ESCAPE = /["\\\x00-\x1f\x7f-\u{10ffff}]/u;
const NEEDS_ESCAPE_ALL = /["\\\x00-\x1f\x7f-\u{10ffff}]/gu;

function escapeField(value: string, max: number): string {
  value = cut(value, max);
  return NEEDS_ESCAPE.test(value) ? value.replace(NEEDS_ESCAPE_ALL, escapeChar) : value;
}

function escapeChar(ch: string): string {
  const code = ch.codePointAt(0)!;
  if (code <= 0xff) return hexByte(code);
  let out = '';
  for (const byte of Buffer.from(ch, 'utf8')) out += hexByte(byte);
  return out;
}

function hexByte(byte: number): string {
  return `\\x${byte.toString(16).toUpperCase().padStart(2, '0')}`;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

// $time_local changes once a second; the string is built once per second, not per line.
let cachedSecond = -1;
let cachedTimeLocal = '';

/** nginx's $time_local: `10/Oct/2000:13:55:36 -0700`, local time with its UTC offset. */
export function timeLocal(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second === cachedSecond) return cachedTimeLocal;
  const d = new Date(second * 1000);
  const offset = -d.getTimezoneOffset();
  const sign = offset < 0 ? '-' : '+';
  const abs = Math.abs(offset);
  cachedTimeLocal =
    `${pad2(d.getDate())}/${MONTHS[d.getMonth()]}/${d.getFullYear()}:` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())} ` +
    `${sign}${pad2(Math.floor(abs / 60))}${pad2(abs % 60)}`;
  cachedSecond = second;
  return cachedTimeLocal;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}
