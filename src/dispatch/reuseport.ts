// reuseport: every slot has its own SO_REUSEPORT socket and the kernel hashes connections across
// them. No herd, no extra hop.
//
// The sockets belong to the slots, not to the processes: the supervisor binds one per slot (and
// never polls it), the worker holding the slot listens on it. A worker that exits (reload, crash,
// kill -9) closes only its copy; the socket stays listening with its queue, and the connections
// hashed to it meanwhile wait for the slot's next worker instead of being reset. (With a socket
// per process, as nginx has, only net.ipv4.tcp_migrate_req=1 saves them.)
import type net from 'node:net';
import type { Dispatch, ListenAddress, ListenShare } from './dispatch.ts';
import { probeFreePort } from './port_probe.ts';
import { bindRawHandle, type RawListenHandle } from './raw_listen_handle.ts';

export async function openReuseport(at: ListenAddress, slots: number): Promise<Dispatch> {
  // SO_REUSEPORT would let a second server of the same user share the port silently: ask first.
  const port = await probeFreePort(at.host, at.port);
  const sockets: RawListenHandle[] = [];
  try {
    for (let slot = 1; slot <= slots; slot++) sockets.push(await bindRawHandle(at.host, port, true));
  } catch (err) {
    for (const socket of sockets) socket.close();
    throw err;
  }
  return {
    mode: 'reuseport',
    host: at.host,
    port,
    shareFor: (slot): ListenShare => ({ mode: 'reuseport', handle: sockets[(slot - 1) % sockets.length] }),
    add() {},
    remove() {},
    gone() {},
    close() {
      for (const socket of sockets.splice(0)) socket.close();
    },
  };
}

/** Worker side: the server listens on its slot's socket (the same call serves shared's one socket). */
export function listenOnSocket(server: net.Server, socket: RawListenHandle, backlog: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(socket, backlog, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
