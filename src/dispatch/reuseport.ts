// reuseport: every worker binds its own SO_REUSEPORT socket and the kernel hashes connections
// across them. No herd, no extra hop. The supervisor holds no socket, so a closing listener's
// queued connections are reset unless net.ipv4.tcp_migrate_req=1 moves them to a sibling.
import type { ServeConfig } from '../config.ts';
import type { Dispatch } from './dispatch.ts';
import { probeFreePort } from './port_probe.ts';

export async function openReuseport(config: ServeConfig): Promise<Dispatch> {
  // SO_REUSEPORT would let a second server of the same user share the port silently.
  const port = await probeFreePort(config.host, config.port);
  return {
    mode: 'reuseport',
    host: config.host,
    port,
    handleForWorker: () => undefined,
    add() {},
    remove() {},
    close() {},
  };
}
