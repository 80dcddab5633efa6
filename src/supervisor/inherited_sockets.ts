// The listening sockets an upgrade hands from the running supervisor to the new one (`herd
// upgrade`, USR2), as nginx's USR2 passes its listeners in NGINX_VAR. They travel as inherited
// descriptors (spawn's stdio array); which descriptor is which travels in HERD_UPGRADE_SOCKETS, by
// the address each was asked for ("host:port", the port as configured and as bound, so `--port 0`
// finds its socket again). The new supervisor adopts a socket where its configuration asks for the
// same address, instead of binding it, so the port never closes and nothing queued on it is lost.
import fs from 'node:fs';
import type net from 'node:net';
import { UsageError } from '../errors.ts';

export const UPGRADE_SOCKETS_VARIABLE = 'HERD_UPGRADE_SOCKETS';

/** One listening socket of the running supervisor, as it passes it on. */
export interface PassedSocket {
  /** The addresses it answers for: `host:port` asked for, and `host:port` bound. */
  addresses: string[];
  /** reuseport: one socket per slot, in slot order; else one. */
  reuseport: boolean;
  /** systemd's socket (LISTEN_FDS): the new supervisor serves it whatever its --host/--port say. */
  activated: boolean;
  /** The descriptors: the running herd's own; in HERD_UPGRADE_SOCKETS, the numbers the new herd sees. */
  fds: number[];
}

export function addressKey(host: string, port: number): string {
  return `${host}:${port}`;
}

/**
 * For spawn: the stdio entries from `firstFd` on (each our descriptor, landing at its index in the
 * child), and the variable saying which is which.
 */
export function passToChild(sockets: PassedSocket[], firstFd: number): { stdio: number[]; variable: string } {
  const stdio: number[] = [];
  const entries: PassedSocket[] = sockets.map((s) => ({
    ...s,
    fds: s.fds.map((fd) => {
      stdio.push(fd);
      return firstFd + stdio.length - 1;
    }),
  }));
  return { stdio, variable: JSON.stringify(entries) };
}

/** The new supervisor's side: the sockets it inherited, each adopted at most once. */
export class InheritedSockets {
  readonly #entries: PassedSocket[];

  constructor(entries: PassedSocket[]) {
    this.#entries = entries;
  }

  static fromVariable(value: string | undefined): InheritedSockets {
    if (value === undefined) return new InheritedSockets([]);
    try {
      return new InheritedSockets(JSON.parse(value) as PassedSocket[]);
    } catch {
      throw new UsageError(`${UPGRADE_SOCKETS_VARIABLE} is not what herd writes; it is set only for a herd that an upgrade starts`);
    }
  }

  /** systemd's socket, passed on by the running herd: config.listenFd in the new one. */
  activatedFd(): number | null {
    return this.#entries.find((e) => e.activated)?.fds[0] ?? null;
  }

  /** The descriptors of the socket serving host:port, taken from the list; undefined when none was passed. */
  take(host: string, port: number, reuseport: boolean): number[] | undefined {
    const key = addressKey(host, port);
    const i = this.#entries.findIndex((e) => e.addresses.includes(key));
    if (i < 0) return undefined;
    const entry = this.#entries[i];
    if (entry.reuseport !== reuseport) {
      throw new UsageError(
        `the running herd serves ${key} with ${entry.reuseport ? 'a reuseport socket per worker' : 'one socket'}, which --dispatch ${reuseport ? 'reuseport' : 'shared or handoff'} cannot take over; ` +
          'an upgrade keeps the dispatch mode (stop and start herd to change it)',
      );
    }
    this.#entries.splice(i, 1);
    return entry.fds;
  }

  /** The one descriptor of a plain listener (metrics, health, an APP's port in shared/handoff). */
  takeOne(host: string, port: number): number | undefined {
    return this.take(host, port, false)?.[0];
  }

  /** Marks systemd's socket as served (it is opened through config.listenFd). */
  takeActivated(): void {
    const i = this.#entries.findIndex((e) => e.activated);
    if (i >= 0) this.#entries.splice(i, 1);
  }

  /** Sockets the new configuration does not serve (a port it moved from): closed here, served on by the old herd until it exits. */
  closeLeftovers(): void {
    for (const entry of this.#entries.splice(0)) {
      for (const fd of entry.fds) {
        try {
          fs.closeSync(fd);
        } catch {
          // Closed already: nothing of ours to release.
        }
      }
    }
  }
}

/** A listening node server's descriptor (node's typings leave `_handle` out; declared once here). */
export function serverFd(server: net.Server): number | undefined {
  const fd = (server as unknown as { _handle: { fd?: number } | null })._handle?.fd;
  return fd === undefined || fd < 0 ? undefined : fd;
}

/** Where a node server listens: the inherited descriptor, else its address. */
export function listenTarget(host: string, port: number, fd: number | undefined): net.ListenOptions | { fd: number } {
  return fd === undefined ? { host, port } : { fd };
}
