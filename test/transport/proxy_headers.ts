// PROXY v2 headers built byte by byte for the tests (v1 headers are plain text in the tests).
export const SIGNATURE = Buffer.from('0d0a0d0a000d0a515549540a', 'hex');

export function proxyV2(command: 'PROXY' | 'LOCAL', family: number, body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head[0] = 0x20 | (command === 'PROXY' ? 1 : 0);
  head[1] = family;
  head.writeUInt16BE(body.length, 2);
  return Buffer.concat([SIGNATURE, head, body]);
}

export function v2Tcp4(source: string, sourcePort: number, tlvs = Buffer.alloc(0)): Buffer {
  const body = Buffer.alloc(12);
  source.split('.').forEach((octet, i) => (body[i] = Number(octet)));
  Buffer.from([10, 0, 0, 1]).copy(body, 4);
  body.writeUInt16BE(sourcePort, 8);
  body.writeUInt16BE(443, 10);
  return proxyV2('PROXY', 0x11, Buffer.concat([body, tlvs]));
}

