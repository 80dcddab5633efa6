// --trust-proxy CIDR,...: the proxies whose X-Forwarded-For is believed (nginx's set_real_ip_from
// with real_ip_recursive on). The logged client is the right-most address in X-Forwarded-For that
// is not itself a trusted proxy; a peer outside the list has its own address logged, whatever it
// claims, since anyone can send the header.
import net from 'node:net';
import { UsageError } from '../errors.ts';

export class TrustedProxies {
  readonly #list = new net.BlockList();

  constructor(cidrs: readonly string[]) {
    for (const cidr of cidrs) {
      const { address, prefix, family } = parseCidr(cidr);
      this.#list.addSubnet(address, prefix, family);
    }
  }

  trusts(address: string): boolean {
    const plain = unmapped(address);
    const family = net.isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }

  /** The client to log for a request from `peer` carrying these X-Forwarded-For values. */
  clientOf(peer: string, forwardedFor: string | string[] | undefined): string {
    if (forwardedFor === undefined || !this.trusts(peer)) return peer;
    const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
    let client = peer;
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i].trim();
      if (net.isIP(hop) === 0) break; // a garbled entry: the last good address is as far as we can believe
      client = hop;
      if (!this.trusts(hop)) break;
    }
    return client;
  }
}

/** The --trust-proxy value: a comma-separated list of CIDR blocks or single addresses. */
export function parseTrustProxy(value: string): string[] {
  const cidrs = value.split(',').map((part) => part.trim()).filter((part) => part !== '');
  if (cidrs.length === 0) throw new UsageError(`--trust-proxy needs CIDR blocks, e.g. 10.0.0.0/8,127.0.0.1, not '${value}'`);
  for (const cidr of cidrs) parseCidr(cidr);
  return cidrs;
}

function parseCidr(cidr: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address, bits, extra] = cidr.split('/');
  const version = net.isIP(address);
  const max = version === 4 ? 32 : 128;
  const prefix = bits === undefined ? max : Number(bits);
  if (version === 0 || extra !== undefined || (bits !== undefined && !/^\d{1,3}$/.test(bits)) || prefix > max) {
    throw new UsageError(`--trust-proxy: '${cidr}' is not an IPv4 or IPv6 address or CIDR block (like 10.0.0.0/8 or fd00::/8)`);
  }
  return { address, prefix, family: version === 4 ? 'ipv4' : 'ipv6' };
}

/** ::ffff:10.0.0.1 (an IPv4 client on a dual-stack socket) is 10.0.0.1. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && net.isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
