// shared: the supervisor binds one socket and every worker polls it; the kernel wakes every
// worker per connection (the thundering herd) and whoever accepts first wins.
//
// The supervisor must never poll that socket itself (a listening net.Server in the supervisor
// would accept connections nobody answers), yet it must keep it to hand to respawned workers.
// So it holds a bound, not-yet-listening raw handle, as node's cluster does; workers call
// listen() on their copy (reuseport.ts's listenOnSocket: the worker side is the same call).
import type { Dispatch, ListenAddress } from './dispatch.ts';
import { probeFreePort } from './port_probe.ts';
import { adoptListeningFd, bindRawHandle, boundAddress, boundPort } from './raw_listen_handle.ts';

export async function openShared(at: ListenAddress): Promise<Dispatch> {
  if (at.fd !== undefined) {
    // systemd's socket: bound and listening already; the workers poll it, as they would herd's.
    const inherited = adoptListeningFd(at.fd);
    return { mode: 'shared', host: boundAddress(inherited), port: boundPort(inherited), sockets: [inherited], shareFor: () => ({ mode: 'shared', handle: inherited }), add() {}, remove() {}, gone() {}, close: () => inherited.close() };
  }
  const { host } = at;
  // The raw handle binds with SO_REUSEADDR and does not listen, so binding succeeds even where a
  // server is listening already; only the workers' listen() would fail. Ask first.
  const port = await probeFreePort(host, at.port);
  const handle = await bindRawHandle(host, port);
  return {
    mode: 'shared',
    host,
    port: boundPort(handle),
    sockets: [handle],
    shareFor: () => ({ mode: 'shared', handle }),
    add() {},
    remove() {},
    gone() {},
    close: () => handle.close(),
  };
}
