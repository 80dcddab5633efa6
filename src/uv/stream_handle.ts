// Accepted connections on libuv stream handles (binding.ts), for the fast engine and logd: reads
// into one shared buffer, writes, FIN, close, and taking handles from a net.Server or net.Socket.
// Every callback is one shared function (no closure per connection) that finds its owner through
// the handle.
//
// Reads land in one buffer per process (`readBuffer`): each read is handled before the next one,
// so whoever keeps bytes past the read (a head still in use, a body chunk) must copy them.
import net from 'node:net';
import util from 'node:util';
import { READ_RESULT, state, streamBinding, UV_EOF } from './binding.ts';
import type { UvStream } from './binding.ts';
import { SerialWrites } from './serial_writes.ts';
import { createStreamWriter } from './writer.ts';

/** What a handle reports to its owner. */
export interface HandleOwner {
  /** Bytes arrived in data[0, length); `data` is the shared read buffer, valid only during this call. */
  onData(data: Buffer, length: number): void;
  /** The peer sent FIN. */
  onEnd(): void;
  /** A read or asynchronous write failed (negative errno): the connection is lost. */
  onFailure(errno: number): void;
  /** An asynchronous write of `bytes` finished. */
  onWritten(bytes: number): void;
}

/** An accepted connection's handle (TCPWrap, PipeWrap, TLSWrap), plus the owner we attach. */
export interface StreamHandle extends UvStream {
  herdOwner: HandleOwner | null;
  onread: (this: StreamHandle) => void;
  /** Set on a handle that takes one write at a time (a TLSWrap: serializeWrites). */
  herdSerial?: SerialWrites;
}

/** A net.Server's listening handle, with the accept callback libuv calls. */
interface ListenHandle {
  onconnection: (this: ListenHandle, status: number, client: StreamHandle | undefined) => void;
}

/** net.Socket and net.Server keep their libuv handle here. */
interface HandleHolder {
  _handle: unknown;
}

const readBuffer = Buffer.allocUnsafeSlow(64 * 1024);

function onRead(this: StreamHandle): void {
  const owner = this.herdOwner;
  if (owner === null) return;
  const nread = state[READ_RESULT];
  if (nread > 0) owner.onData(readBuffer, nread);
  else if (nread === UV_EOF) owner.onEnd();
  else if (nread < 0) owner.onFailure(nread);
}

function ignoreRead(): void {}

const writer = createStreamWriter((handle, status, bytes) => {
  const serial = (handle as StreamHandle).herdSerial;
  if (serial !== undefined) return serial.completed(handle as StreamHandle, status);
  const owner = (handle as StreamHandle).herdOwner;
  if (owner === null) return;
  if (status < 0) owner.onFailure(status);
  else owner.onWritten(bytes);
});

function afterShutdown(): void {
  // Nothing to do: the owner keeps reading until the peer's FIN or its linger time runs out.
}

/** Starts delivering a handle's reads and write completions to `owner`. Returns 0 or a negative errno. */
export function attachHandle(handle: StreamHandle, owner: HandleOwner): number {
  handle.herdOwner = owner;
  handle.onread = onRead;
  handle.useUserBuffer(readBuffer);
  return resumeReading(handle);
}

/** Reading again after pauseReading. 0 or a negative errno. */
export function resumeReading(handle: StreamHandle): number {
  return handle.readStart();
}

export function pauseReading(handle: StreamHandle): void {
  handle.readStop();
}

/** Writes one buffer: WRITE_DONE, WRITE_PENDING, or a negative errno. */
export function writeBuffer(handle: StreamHandle, data: Uint8Array): number {
  const serial = handle.herdSerial;
  return serial === undefined ? writer.write(handle, data) : serial.write(handle, data, data.length);
}

/** Writes several buffers in one system call (writev); the array must not change until written. */
export function writeBuffers(handle: StreamHandle, chunks: Uint8Array[], bytes: number): number {
  const serial = handle.herdSerial;
  return serial === undefined ? writer.writev(handle, chunks, bytes) : serial.write(handle, chunks, bytes);
}

/** From now on `handle` gets one write at a time, the others waiting their turn (serial_writes.ts). */
export function serializeWrites(handle: StreamHandle): void {
  handle.herdSerial = new SerialWrites(writer);
}

/** Sends FIN once queued writes are out; reading goes on. Returns 0 or a negative errno. */
export function shutdownHandle(handle: StreamHandle): number {
  const req = new streamBinding!.ShutdownWrap();
  req.handle = handle;
  req.oncomplete = afterShutdown;
  return handle.shutdown(req);
}

/** Closes the handle now; queued writes are dropped. No callback reaches the owner afterwards. */
export function closeHandle(handle: StreamHandle): void {
  handle.herdOwner = null;
  handle.onread = ignoreRead;
  handle.close();
}

export function setNoDelay(handle: StreamHandle): void {
  handle.setNoDelay?.(true);
}

/** The peer's address, or '-' when it has none (a Unix socket) or it is gone. */
export function peerAddress(handle: StreamHandle): string {
  const out: { address?: string } = {};
  if (handle.getpeername === undefined || handle.getpeername(out) !== 0) return '-';
  return out.address ?? '-';
}

/**
 * Takes a connected net.Socket's handle away from it (a connection handed over by the supervisor).
 * The socket keeps no handle: destroying it later only emits its 'close', which is how whoever
 * handed it over learns that the connection ended. Returns null for a socket without a usable
 * handle; `buffered` is what the socket had already read.
 */
export function takeHandle(socket: net.Socket): { handle: StreamHandle; buffered: Buffer | null } | null {
  const holder = socket as unknown as HandleHolder;
  const handle = holder._handle as Partial<StreamHandle> | null;
  if (handle === null || typeof handle.writeBuffer !== 'function' || typeof handle.useUserBuffer !== 'function' || socket.destroyed) return null;
  const buffered = socket.readableLength > 0 ? (socket.read() as Buffer | null) : null;
  handle.readStop!();
  holder._handle = null;
  return { handle: handle as StreamHandle, buffered };
}

/**
 * From the next accept on, a listening net.Server hands its connections' handles to `onHandle`
 * instead of building a net.Socket for each. Call it on 'listening' (its handle exists then, and
 * no connection has been accepted yet: 'listening' is emitted before the loop polls).
 */
export function acceptHandles(server: net.Server, onHandle: (handle: StreamHandle) => void): void {
  const listenHandle = (server as unknown as HandleHolder)._handle as ListenHandle | null;
  if (listenHandle === null || typeof listenHandle.onconnection !== 'function') return;
  listenHandle.onconnection = function onConnection(status: number, client: StreamHandle | undefined): void {
    if (status < 0 || client === undefined) {
      const error = Object.assign(new Error(`accept failed: ${util.getSystemErrorName(status)}`), { errno: status, code: util.getSystemErrorName(status), syscall: 'accept' });
      server.emit('error', error);
      return;
    }
    onHandle(client);
  };
}

/** The event a server that takes bare handles (the fast engine's) is handed a connection by. */
const HANDED_OVER = 'herd:handle';

/** Takes a connection already on a bare handle (handOverHandle); `socket` as in takeHandle. */
export type HandleTaker = (handle: StreamHandle, socket: net.Socket | null, buffered: Buffer | null) => void;

/** `server` takes connections on bare handles from now on, besides the sockets of its 'connection'. */
export function takeHandedHandles(server: net.Server, take: HandleTaker): void {
  server.on(HANDED_OVER, take);
}

/**
 * Hands a connection on a bare handle (a TLS handle past its handshake) to a server that takes
 * them; `socket`, if any, is destroyed when the connection ends (as takeHandle's), `buffered` is
 * read first. A server that does not take handles gets none: the connection is closed.
 */
export function handOverHandle(server: net.Server, handle: StreamHandle, socket: net.Socket | null, buffered: Buffer | null): void {
  if (server.emit(HANDED_OVER, handle, socket, buffered)) return;
  closeHandle(handle);
  socket?.destroy();
}
