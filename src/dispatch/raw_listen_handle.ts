// A listening socket as a bare libuv handle, the way node's cluster holds one. The supervisor uses
// it where a net.Server would be wrong (shared: it must never accept) or too heavy (handoff: a
// net.Socket per connection only to pass its descriptor on).
import type { ChildProcess } from 'node:child_process';
import dns from 'node:dns/promises';
import net from 'node:net';
import util from 'node:util';
import { describeListenError, HerdError } from '../errors.ts';

/** An accepted connection's handle, to send to a worker (child.send's 'net.Native' kind) and close. */
export interface RawConnectionHandle {
  close(): void;
  /** The client's address (a TCP handle's; absent on other kinds). */
  getpeername?(out: { address?: string; port?: number }): number;
}

export interface RawListenHandle {
  /** The descriptor (what an upgrade passes to the new supervisor). */
  readonly fd: number;
  getsockname(out: { port?: number }): number;
  listen(backlog: number): number;
  close(): void;
  onconnection: ((status: number, client?: RawConnectionHandle) => void) | null;
}

// node:net exports the function its cluster module uses to create such a handle; it is not in
// the typings, so it is declared here, once.
const createServerHandle = (net as unknown as {
  _createServerHandle(address: string, port: number, addressType: number, fd?: number, flags?: number): RawListenHandle | number;
})._createServerHandle;
/** libuv's bind flag for SO_REUSEPORT (tcp_wrap's constants; not in the typings). */
const UV_TCP_REUSEPORT = 2;

/** What may travel with an IPC message: a raw listening or accepted handle, or a net.Socket. */
export type SendableHandle = RawListenHandle | RawConnectionHandle | net.Socket;

/**
 * What a worker receives with a message: the supervisor sends bare handles, so that is what comes
 * (node's 'net.Native' kind); which one, the message says (`start`/`listen-reply`: a listening
 * socket, `connection`: an accepted one).
 */
export type ReceivedHandle = RawListenHandle | RawConnectionHandle;

/** A net.Socket on an accepted connection's bare handle (the typings leave the option out). */
const SocketOnHandle = net.Socket as unknown as new (options: { handle: RawConnectionHandle }) => net.Socket;
export function socketOnHandle(handle: RawConnectionHandle | net.Socket): net.Socket {
  return handle instanceof net.Socket ? handle : new SocketOnHandle({ handle });
}

/**
 * child.send with a handle. node sends a bare libuv handle as its 'net.Native' kind (as its cluster
 * does), which its typings leave out; the signature is declared here, once.
 */
type SendWithHandle = (message: object, handle: SendableHandle | undefined, options: object, callback: (err: Error | null) => void) => boolean;
export function sendWithHandle(child: ChildProcess, message: object, handle?: SendableHandle, onSent: (err: Error | null) => void = noop): void {
  (child.send as unknown as SendWithHandle).call(child, message, handle, {}, onSent);
}

function noop(): void {}

function failure(status: number, host: string, port: number): Error {
  const code = util.getSystemErrorName(status);
  return describeListenError(Object.assign(new Error(code), { code }), host, port);
}

/** Binds host:port (SO_REUSEADDR, not listening yet). Port 0 is resolved: read it with boundPort. */
export async function bindRawHandle(host: string, port: number, reusePort = false): Promise<RawListenHandle> {
  let address: { address: string; family: number };
  try {
    address = await dns.lookup(host);
  } catch (err) {
    throw describeListenError(err as NodeJS.ErrnoException, host, port);
  }
  const handle = createServerHandle(address.address, port, address.family, undefined, reusePort ? UV_TCP_REUSEPORT : 0);
  if (typeof handle === 'number') throw failure(handle, host, port);
  return handle;
}

/** A socket already bound and listening that this process inherited (systemd socket activation). */
export function adoptListeningFd(fd: number): RawListenHandle {
  const handle = createServerHandle(null as never, 0, 4, fd);
  if (typeof handle === 'number') throw new HerdError(`the inherited socket (fd ${fd}) cannot be served: ${util.getSystemErrorName(handle)}; is it a listening TCP socket?`, 'EBADFD');
  return handle;
}

/** The address a handle is bound to. */
export function boundAddress(handle: RawListenHandle): string {
  const out: { address?: string } = {};
  (handle.getsockname as (out: { address?: string }) => number)(out);
  return out.address ?? '';
}

export function boundPort(handle: RawListenHandle): number {
  const out: { port?: number } = {};
  handle.getsockname(out);
  return out.port ?? 0;
}

/** listen(2) on the handle; EADDRINUSE shows here, not at bind, because of SO_REUSEADDR. */
export function listenRaw(handle: RawListenHandle, backlog: number, host: string, port: number): void {
  const status = handle.listen(backlog);
  if (status !== 0) {
    handle.close();
    throw failure(status, host, port);
  }
}
