// The client address a PROXY header names, made the connection's own. Every reader of the peer
// address asks the libuv handle's getpeername: net.Socket (remoteAddress, so node:http, the app and
// ServerWatch's access records), the fast engine (peerAddress), and a TLS socket layered on this
// one (TLSWrap forwards getpeername to the handle under it). So the answer is changed there, once.
import type net from 'node:net';
import type { ProxiedSource } from './proxy_protocol.ts';

interface PeerHandle {
  getpeername?(out: Record<string, unknown>): number;
}

export function adoptPeerAddress(socket: net.Socket, source: ProxiedSource): void {
  const holder = socket as unknown as { _handle: PeerHandle | null; _peername?: unknown };
  const peer = { address: source.address, port: source.port, family: source.family };
  if (holder._handle) {
    holder._handle.getpeername = (out) => {
      Object.assign(out, peer);
      return 0;
    };
  }
  // net.Socket caches what it read: anything that asked before the header was read asked too early.
  holder._peername = peer;
}
