// systemd socket activation (sd_listen_fds): LISTEN_PID is this process and LISTEN_FDS counts the
// descriptors passed from 3 on. herd serves one listening socket; it serves it in `shared` (the
// workers poll it) or `handoff` (the supervisor accepts on it). Not `reuseport`: that mode needs a
// socket of each worker's own, bound with SO_REUSEPORT, while systemd passes one socket (and keeps
// a copy): connections the kernel hashed to a socket nobody accepts on would wait forever.
import { UsageError } from '../errors.ts';

export const SD_LISTEN_FDS_START = 3;

/** The descriptor systemd passed, or null when this process was not socket-activated. */
export function inheritedListenFd(env: NodeJS.ProcessEnv = process.env, pid = process.pid): number | null {
  if (env.LISTEN_FDS === undefined || env.LISTEN_PID === undefined) return null;
  if (Number(env.LISTEN_PID) !== pid) return null; // meant for a parent (a wrapper that did not exec)
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return null;
  if (count > 1) {
    throw new UsageError(`socket activation passed ${count} sockets (LISTEN_FDS=${count}); herd serves one: give its .socket unit a single ListenStream=`);
  }
  return SD_LISTEN_FDS_START;
}

/** The variables are for this process alone: a worker (or an APP) must not act on them. */
export function forgetSystemdEnvironment(env: NodeJS.ProcessEnv = process.env): void {
  for (const name of ['LISTEN_FDS', 'LISTEN_PID', 'LISTEN_FDNAMES', 'NOTIFY_SOCKET']) delete env[name];
}

export const REUSEPORT_CANNOT_ACTIVATE =
  '--dispatch reuseport cannot serve a socket systemd passed (LISTEN_FDS): each reuseport worker binds a socket of its own; use --dispatch shared or handoff (the default under socket activation)';
