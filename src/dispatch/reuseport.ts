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
import fs from 'node:fs';
import { adoptListeningFd, bindRawHandle, boundPort, type RawListenHandle } from './raw_listen_handle.ts';

export async function openReuseport(at: ListenAddress, slots: number): Promise<Dispatch> {
  const sockets: RawListenHandle[] = [];
  // An upgrade's sockets: the slots the new herd has keep theirs; a slot it no longer has closes
  // (what is queued there is lost once the old herd's worker leaves it: keep --workers to avoid it).
  for (const fd of at.fds ?? []) {
    if (sockets.length < slots) sockets.push(adoptListeningFd(fd));
    else fs.closeSync(fd);
  }
  // SO_REUSEPORT would let a second server of the same user share the port silently: ask first
  // (not beside sockets passed on, which are this herd's own).
  const port = sockets.length > 0 ? boundPort(sockets[0]) : await probeFreePort(at.host, at.port);
  try {
    while (sockets.length < slots) sockets.push(await bindRawHandle(at.host, port, true));
  } catch (err) {
    for (const socket of sockets) socket.close();
    throw err;
  }
  return {
    mode: 'reuseport',
    host: at.host,
    port,
    sockets,
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
