// sticky handoff: the same client address always maps to the same number, so its connections go
// to the same worker (what socket.io's polling needs: every request of a session on one worker).
import type { RawConnectionHandle } from './raw_listen_handle.ts';

/** FNV-1a over the peer address (not the port: each request of a session may open a new connection). */
export function clientAddressHash(connection: RawConnectionHandle): number {
  const out: { address?: string } = {};
  connection.getpeername?.(out);
  const address = out.address ?? '';
  let hash = 0x811c9dc5;
  for (let i = 0; i < address.length; i++) {
    hash ^= address.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}
