// The PROXY header parser, pinned on the spec's examples: v1 and v2, every prefix of a good header
// is 'incomplete' (never a false refusal for a slow balancer), and each malformed header is
// refused at the first byte that shows it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyHeader } from '../../src/transport/proxy_protocol.ts';
import { proxyV2, SIGNATURE, v2Tcp4 } from './proxy_headers.ts';

function v2Tcp6(sourceGroups: number[], sourcePort: number): Buffer {
  const body = Buffer.alloc(36);
  sourceGroups.forEach((g, i) => body.writeUInt16BE(g, i * 2));
  body[31] = 1;
  body.writeUInt16BE(sourcePort, 32);
  body.writeUInt16BE(443, 34);
  return proxyV2('PROXY', 0x21, body);
}

const good: [string, Buffer, { address: string; port: number; family: string } | null][] = [
  ['v1 TCP4', Buffer.from('PROXY TCP4 192.0.2.10 10.0.0.1 56324 443\r\n'), { address: '192.0.2.10', port: 56324, family: 'IPv4' }],
  ['v1 TCP6', Buffer.from('PROXY TCP6 2001:db8::7 2001:db8::1 4000 443\r\n'), { address: '2001:db8::7', port: 4000, family: 'IPv6' }],
  ['v1 UNKNOWN', Buffer.from('PROXY UNKNOWN\r\n'), null],
  ['v1 UNKNOWN with addresses', Buffer.from('PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n'), null],
  ['v2 TCP4', v2Tcp4('198.51.100.22', 40000), { address: '198.51.100.22', port: 40000, family: 'IPv4' }],
  ['v2 TCP4 with TLVs', v2Tcp4('198.51.100.23', 1, Buffer.from([0x04, 0x00, 0x03, 1, 2, 3])), { address: '198.51.100.23', port: 1, family: 'IPv4' }],
  ['v2 TCP6', v2Tcp6([0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x42], 5555), { address: '2001:db8::42', port: 5555, family: 'IPv6' }],
  ['v2 LOCAL (a health check)', proxyV2('LOCAL', 0x00, Buffer.alloc(0)), null],
  ['v2 LOCAL with an address block', proxyV2('LOCAL', 0x11, Buffer.alloc(12)), null],
  ['v2 PROXY UNSPEC', proxyV2('PROXY', 0x00, Buffer.alloc(0)), null],
];

for (const [name, header, source] of good) {
  test(`PROXY ${name}: parsed, its length exact, every prefix incomplete`, () => {
    const after = Buffer.from('GET / HTTP/1.1\r\n');
    assert.deepEqual(parseProxyHeader(Buffer.concat([header, after])), { t: 'header', length: header.length, source });
    for (let n = 0; n < header.length; n++) assert.deepEqual(parseProxyHeader(header.subarray(0, n)), { t: 'incomplete' }, `prefix of ${n} bytes`);
  });
}

const bad: [string, Buffer, RegExp][] = [
  ['plain HTTP', Buffer.from('GET / HTTP/1.1\r\n'), /did not start with a PROXY header/],
  ['a TLS ClientHello', Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00]), /did not start with a PROXY header/],
  ['PROXY in lower case', Buffer.from('proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n'), /did not start with a PROXY header/],
  ['v1 without CRLF within 107 bytes', Buffer.from(`PROXY TCP4 ${'1'.repeat(120)}`), /longer than 107 bytes/],
  ['v1 with a bad protocol', Buffer.from('PROXY UDP4 1.2.3.4 1.2.3.4 1 2\r\n'), /not "PROXY TCP4\|TCP6/],
  ['v1 with too few fields', Buffer.from('PROXY TCP4 1.2.3.4 1.2.3.4 1\r\n'), /not "PROXY TCP4\|TCP6/],
  ['v1 TCP4 with an IPv6 address', Buffer.from('PROXY TCP4 ::1 1.2.3.4 1 2\r\n'), /not IPv4/],
  ['v1 with a bad address', Buffer.from('PROXY TCP4 1.2.3.999 1.2.3.4 1 2\r\n'), /not IPv4/],
  ['v1 with a port above 65535', Buffer.from('PROXY TCP4 1.2.3.4 1.2.3.4 65536 2\r\n'), /bad port/],
  ['v1 with a leading-zero port', Buffer.from('PROXY TCP4 1.2.3.4 1.2.3.4 080 2\r\n'), /bad port/],
  ['v2 with a broken signature', Buffer.concat([SIGNATURE.subarray(0, 11), Buffer.from([0x0b, 0x21, 0x11, 0, 12])]), /did not start with a PROXY header/],
  ['v2 version 1', Buffer.concat([SIGNATURE, Buffer.from([0x11, 0x11, 0, 12])]), /version 1/],
  ['v2 command 2', Buffer.concat([SIGNATURE, Buffer.from([0x22, 0x11, 0, 12])]), /unknown command 2/],
  ['v2 UDP', proxyV2('PROXY', 0x12, Buffer.alloc(12)), /family 0x12/],
  ['v2 unix stream', proxyV2('PROXY', 0x31, Buffer.alloc(216)), /family 0x31/],
  ['v2 TCP4 shorter than its addresses', proxyV2('PROXY', 0x11, Buffer.alloc(8)), /shorter than its addresses/],
  ['v2 TCP6 shorter than its addresses', proxyV2('PROXY', 0x21, Buffer.alloc(20)), /shorter than its addresses/],
];

for (const [name, data, reason] of bad) {
  test(`PROXY header refused: ${name}`, () => {
    const result = parseProxyHeader(data);
    assert.equal(result.t, 'invalid');
    assert.match((result as { reason: string }).reason, reason);
  });
}
