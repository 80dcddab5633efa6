// The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that an L4 balancer
// sends before anything else on a connection, naming the client it accepted. This file only reads
// bytes; proxy_header.ts takes them off a socket. Rules, as written in the spec:
// - v1: "PROXY TCP4|TCP6 SRC DST SPORT DPORT\r\n" or "PROXY UNKNOWN ...\r\n", 107 bytes at most.
// - v2: the 12-byte signature, version 2 and a command (LOCAL 0: the balancer's own connection,
//   a health check; PROXY 1), a family byte, a 16-bit length, then the addresses and TLVs.
//   LOCAL and UNSPEC/UNKNOWN keep the connection's own address; UDP and unix families are refused
//   (a stream of HTTP does not come from them).
// Each header is judged as soon as its bytes allow: a connection that cannot be PROXY is refused
// at its first wrong byte, not after a timeout.
import net from 'node:net';

export interface ProxiedSource {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export type ProxyHeaderResult =
  | { t: 'incomplete' }
  | { t: 'invalid'; reason: string }
  /** `source` null: the header says to keep the connection's own address (LOCAL, UNKNOWN). */
  | { t: 'header'; length: number; source: ProxiedSource | null };

const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V1_MAX = 107;
const INCOMPLETE: ProxyHeaderResult = { t: 'incomplete' };

export function parseProxyHeader(data: Buffer): ProxyHeaderResult {
  if (data.length === 0) return INCOMPLETE;
  if (data[0] === V2_SIGNATURE[0]) return parseV2(data);
  if (data[0] === V1_PREFIX[0]) return parseV1(data);
  return invalid('the connection did not start with a PROXY header');
}

function parseV1(data: Buffer): ProxyHeaderResult {
  const prefix = Math.min(data.length, V1_PREFIX.length);
  if (!data.subarray(0, prefix).equals(V1_PREFIX.subarray(0, prefix))) return invalid('the connection did not start with a PROXY header');
  const end = data.indexOf('\r\n', 0, 'latin1');
  if (end < 0) return data.length >= V1_MAX ? invalid(`PROXY v1 header longer than ${V1_MAX} bytes`) : INCOMPLETE;
  if (end + 2 > V1_MAX) return invalid(`PROXY v1 header longer than ${V1_MAX} bytes`);
  const fields = data.toString('latin1', V1_PREFIX.length, end).split(' ');
  const length = end + 2;
  if (fields[0] === 'UNKNOWN') return { t: 'header', length, source: null };
  if (fields.length !== 5 || (fields[0] !== 'TCP4' && fields[0] !== 'TCP6')) return invalid('PROXY v1 header is not "PROXY TCP4|TCP6 SRC DST SPORT DPORT"');
  const family = fields[0] === 'TCP4' ? 'IPv4' : 'IPv6';
  const [, source, destination, sourcePort, destinationPort] = fields;
  const version = family === 'IPv4' ? 4 : 6;
  if (net.isIP(source) !== version || net.isIP(destination) !== version) return invalid(`PROXY v1 header has an address that is not ${family}`);
  if (!isPort(sourcePort) || !isPort(destinationPort)) return invalid('PROXY v1 header has a bad port');
  return { t: 'header', length, source: { address: source, port: Number(sourcePort), family } };
}

function parseV2(data: Buffer): ProxyHeaderResult {
  const prefix = Math.min(data.length, V2_SIGNATURE.length);
  if (!data.subarray(0, prefix).equals(V2_SIGNATURE.subarray(0, prefix))) return invalid('the connection did not start with a PROXY header');
  if (data.length < 16) return INCOMPLETE;
  const versionCommand = data[12];
  if (versionCommand >> 4 !== 2) return invalid(`PROXY v2 header has version ${versionCommand >> 4}`);
  const command = versionCommand & 0x0f;
  if (command > 1) return invalid(`PROXY v2 header has an unknown command ${command}`);
  const family = data[13];
  const bodyLength = data.readUInt16BE(14);
  const length = 16 + bodyLength;
  // LOCAL: the balancer speaking for itself; whatever follows the header is its own.
  if (command === 0) return data.length < length ? INCOMPLETE : { t: 'header', length, source: null };
  switch (family) {
    case 0x00:
      return data.length < length ? INCOMPLETE : { t: 'header', length, source: null };
    case 0x11: // TCP over IPv4: 4 + 4 address bytes, 2 + 2 ports
      if (bodyLength < 12) return invalid('PROXY v2 TCP4 header is shorter than its addresses');
      if (data.length < length) return INCOMPLETE;
      return { t: 'header', length, source: { address: `${data[16]}.${data[17]}.${data[18]}.${data[19]}`, port: data.readUInt16BE(24), family: 'IPv4' } };
    case 0x21: // TCP over IPv6: 16 + 16, 2 + 2
      if (bodyLength < 36) return invalid('PROXY v2 TCP6 header is shorter than its addresses');
      if (data.length < length) return INCOMPLETE;
      return { t: 'header', length, source: { address: ipv6Text(data.subarray(16, 32)), port: data.readUInt16BE(48), family: 'IPv6' } };
    default:
      return invalid(`PROXY v2 header has family 0x${family.toString(16).padStart(2, '0')}; only TCP over IPv4 or IPv6 (or LOCAL/UNSPEC) carries HTTP`);
  }
}

function ipv6Text(bytes: Buffer): string {
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  // Through the URL parser: the canonical short form (::1, 2001:db8::7), as getpeername prints it.
  return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
}

function isPort(text: string): boolean {
  return /^(0|[1-9]\d{0,4})$/.test(text) && Number(text) <= 65535;
}

function invalid(reason: string): ProxyHeaderResult {
  return { t: 'invalid', reason };
}
