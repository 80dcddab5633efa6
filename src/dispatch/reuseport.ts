// reuseport: every worker binds its own SO_REUSEPORT socket and the kernel hashes connections
// across them. No herd, no extra hop. The supervisor holds no socket, so a closing listener's
// queued connections are reset unless net.ipv4.tcp_migrate_req=1 moves them to a sibling.
import type { Dispatch, ListenAddress } from './dispatch.ts';
import { probeFreePort } from './port_probe.ts';

export async function openReuseport(at: ListenAddress): Promise<Dispatch> {
  // SO_REUSEPORT would let a second server of the same user share the port silently.
  const port = await probeFreePort(at.host, at.port);
  return {
    mode: 'reuseport',
    host: at.host,
    port,
    handleForWorker: () => undefined,
    add() {},
    remove() {},
    close() {},
  };
}
