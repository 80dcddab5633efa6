// shared: the supervisor binds one socket and every worker polls it; the kernel wakes every
// worker per connection (the thundering herd) and whoever accepts first wins.
//
// The supervisor must never poll that socket itself (a listening net.Server in the supervisor
// would accept connections nobody answers), yet it must keep it to hand to respawned workers.
// So it holds a bound, not-yet-listening raw handle, as node's cluster does; workers call
// listen() on their copy.
import dns from 'node:dns/promises';
import net from 'node:net';
import util from 'node:util';
import type { ServeConfig } from '../config.ts';
import { describeListenError } from '../errors.ts';
import type { Dispatch } from './dispatch.ts';
import { probeFreePort } from './port_probe.ts';

interface RawTcpHandle {
  getsockname(out: { port?: number }): number;
  close(): void;
}

// node:net exports the function its cluster module uses to create such a handle; it is not in
// the typings, so it is declared here, once.
const createServerHandle = (net as unknown as {
  _createServerHandle(address: string, port: number, addressType: number, fd?: number, flags?: number): RawTcpHandle | number;
})._createServerHandle;

export async function openShared(config: ServeConfig): Promise<Dispatch> {
  const { host } = config;
  // The raw handle binds with SO_REUSEADDR and does not listen, so binding succeeds even where a
  // server is listening already; only the workers' listen() would fail. Ask first.
  const port = await probeFreePort(host, config.port);
  let address: { address: string; family: number };
  try {
    address = await dns.lookup(host);
  } catch (err) {
    throw describeListenError(err as NodeJS.ErrnoException, host, port);
  }
  const handle = createServerHandle(address.address, port, address.family);
  if (typeof handle === 'number') {
    const code = util.getSystemErrorName(handle);
    throw describeListenError(Object.assign(new Error(code), { code }), host, port);
  }
  const out: { port?: number } = {};
  handle.getsockname(out);
  return {
    mode: 'shared',
    host,
    port: out.port ?? port,
    handleForWorker: () => handle,
    add() {},
    remove() {},
    close: () => handle.close(),
  };
}
