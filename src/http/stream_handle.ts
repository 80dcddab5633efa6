// Connections on libuv stream handles directly (Node's stream_wrap binding, the layer under
// net.Socket). Why: for a 'Hello, World!' the Duplex stream machinery around each socket (its
// states, buffering, events, a JS Buffer allocated per read) cost more CPU than the whole HTTP
// work; on the bare handle a keep-alive request costs what it costs nginx. logd reads its clients
// the same way. This file is the only place that knows the binding's shape. Every callback is one
// shared function (no closure per connection) that finds its owner through the handle.
//
// Reads land in one buffer per process (`readBuffer`): each read is handled before the next one,
// so whoever keeps bytes past the read (a head still in use, a body chunk) must copy them.
import net from 'node:net';
import util from 'node:util';
import { HerdError } from '../errors.ts';

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

/** The part of a libuv stream handle (TCPWrap, PipeWrap) used here, plus the owner we attach. */
export interface StreamHandle {
  herdOwner: HandleOwner | null;
  onread: (this: StreamHandle) => void;
  readStart(): number;
  readStop(): number;
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writev(req: WriteReq, chunks: Uint8Array[], allBuffers: boolean): number;
  shutdown(req: ShutdownReq): number;
  setNoDelay?(on: boolean): number;
  getpeername?(out: { address?: string }): number;
  close(): void;
}

interface WriteReq {
  handle: StreamHandle | null;
  buffer: Uint8Array | Uint8Array[] | null;
  bytes: number;
  oncomplete: (this: WriteReq, status: number) => void;
}

interface ShutdownReq {
  handle: StreamHandle;
  oncomplete: (this: ShutdownReq, status: number) => void;
}

interface StreamBinding {
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** A net.Server's listening handle, with the accept callback libuv calls. */
interface ListenHandle {
  onconnection: (this: ListenHandle, status: number, client: StreamHandle | undefined) => void;
}

/** net.Socket and net.Server keep their libuv handle here. */
interface HandleHolder {
  _handle: unknown;
}

/** The binding, or null on a Node without it (loading this module must not fail: --engine node still works). */
function findStreamBinding(): StreamBinding | null {
  const binding = (process as unknown as { binding?: (name: string) => unknown }).binding;
  try {
    const stream = typeof binding === 'function' ? (binding('stream_wrap') as Partial<StreamBinding>) : undefined;
    if (stream?.WriteWrap === undefined || stream.ShutdownWrap === undefined || !(stream.streamBaseState instanceof Int32Array)) return null;
    return stream as StreamBinding;
  } catch {
    return null;
  }
}

const stream = findStreamBinding();

/** Users (the fast engine, logd) call this first: everything below needs the binding. */
export function requireStreamHandles(user: string, otherwise: string): void {
  if (stream === null) {
    throw new HerdError(`${user} needs Node's stream_wrap binding, which this Node (${process.version}) lacks; use Node 24, or ${otherwise}`);
  }
}

const state = stream?.streamBaseState ?? new Int32Array(8);
const READ_RESULT = stream?.kReadBytesOrError ?? 0;
const WRITE_WAS_ASYNC = stream?.kLastWriteWasAsync ?? 0;
/** libuv's UV_EOF. */
const UV_EOF = -4095;

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

function afterWrite(this: WriteReq, status: number): void {
  const handle = this.handle;
  this.handle = null;
  this.buffer = null;
  const owner = handle?.herdOwner ?? null;
  if (owner === null) return;
  if (status < 0) owner.onFailure(status);
  else owner.onWritten(this.bytes);
}

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

/**
 * The request object of the next write. A write the kernel takes at once never keeps its request
 * object, so one object serves every such write; a write that goes asynchronous keeps its object
 * (and its data) until done, and the next write gets a fresh one. Its fields are set only then:
 * a store into this native-backed object is a slow runtime call, and nothing reads them before
 * the completion, which cannot come before we return to the event loop.
 */
let writeReq = stream === null ? (null as unknown as WriteReq) : newWriteReq(); // never used without the binding

function newWriteReq(): WriteReq {
  const req = new stream!.WriteWrap();
  req.oncomplete = afterWrite;
  return req;
}

/** Result of a write that the kernel took whole. */
export const WRITE_DONE = 1;
/** Result of a write that libuv queued: `onWritten` follows. */
export const WRITE_PENDING = 0;

/** Writes one buffer: WRITE_DONE, WRITE_PENDING, or a negative errno. */
export function writeBuffer(handle: StreamHandle, data: Uint8Array): number {
  const req = writeReq;
  return finishWrite(req, handle.writeBuffer(req, data), handle, data, data.length);
}

/** Writes several buffers in one system call (writev); the array must not change until written. */
export function writeBuffers(handle: StreamHandle, chunks: Uint8Array[], bytes: number): number {
  const req = writeReq;
  return finishWrite(req, handle.writev(req, chunks, true), handle, chunks, bytes);
}

function finishWrite(req: WriteReq, err: number, handle: StreamHandle, data: Uint8Array | Uint8Array[], bytes: number): number {
  if (err < 0) return err;
  if (state[WRITE_WAS_ASYNC] === 0) return WRITE_DONE;
  // Queued: the request keeps the data alive (libuv writes from it) and tells afterWrite whose it is.
  req.handle = handle;
  req.buffer = data;
  req.bytes = bytes;
  writeReq = newWriteReq();
  return WRITE_PENDING;
}

/** Sends FIN once queued writes are out; reading goes on. Returns 0 or a negative errno. */
export function shutdownHandle(handle: StreamHandle): number {
  const req = new stream!.ShutdownWrap();
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
