// Client TCP connections on libuv handles directly (Node's own tcp_wrap binding, the layer under
// net.Socket). Why not net.Socket: each one builds a Duplex stream, its states and listeners, and
// on this machine a connection per request then costs ~110 µs of the generator's CPU against ab's
// ~55 µs; on the bare handle it costs ~60 µs. The load generator has to be the cheaper side of
// the measurement, so the hot path talks to the handle. This file is the only place that knows
// the binding's shape; every callback is one shared function (no closure per connection) that
// finds its connection through the handle.
import net from 'node:net';
import { HerdError } from '../errors.ts';

/** What a handle reports to its owner. `handle` lets the owner ignore a handle it already dropped. */
export interface TcpEvents {
  onConnect(handle: TcpHandle): void;
  /** `length` bytes arrived at the start of the handle's receive buffer. */
  onData(handle: TcpHandle, length: number): void;
  onEnd(handle: TcpHandle): void;
  /** A libuv error (negative errno) from connect, read or an asynchronous write. */
  onFailure(handle: TcpHandle, errno: number): void;
  /** An asynchronous write finished (a synchronous one is reported by tcpWrite's result). */
  onWritten(handle: TcpHandle): void;
}

/** The part of the binding's TCP handle used here, plus the owner we attach. */
export interface TcpHandle {
  events: TcpEvents;
  onread: (this: TcpHandle) => void;
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  readStart(): number;
  useUserBuffer(buffer: Uint8Array): void;
  setNoDelay(on: boolean): number;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  close(): void;
}

interface ConnectReq {
  oncomplete: (this: ConnectReq, status: number, handle: TcpHandle) => void;
}

interface WriteReq {
  handle: TcpHandle;
  buffer: Uint8Array;
  oncomplete: (this: WriteReq, status: number) => void;
}

interface TcpBinding {
  TCP: new (type: number) => TcpHandle;
  TCPConnectWrap: new () => ConnectReq;
  constants: { SOCKET: number };
}

interface StreamBinding {
  WriteWrap: new () => WriteReq;
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

type BindingLoader = (name: string) => unknown;

function loadBindings(): { tcp: TcpBinding; stream: StreamBinding } {
  const binding = (process as unknown as { binding?: BindingLoader }).binding;
  if (typeof binding !== 'function') {
    throw new HerdError(`herd bench needs process.binding('tcp_wrap'), which this Node (${process.version}) does not have; use Node 22 or 24`);
  }
  return { tcp: binding('tcp_wrap') as TcpBinding, stream: binding('stream_wrap') as StreamBinding };
}

const { tcp, stream } = loadBindings();
const state = stream.streamBaseState;
const READ_RESULT = stream.kReadBytesOrError;
const WRITE_WAS_ASYNC = stream.kLastWriteWasAsync;
/** libuv's UV_EOF. */
const UV_EOF = -4095;

function onRead(this: TcpHandle): void {
  const nread = state[READ_RESULT];
  if (nread > 0) this.events.onData(this, nread);
  else if (nread === UV_EOF) this.events.onEnd(this);
  else if (nread < 0) this.events.onFailure(this, nread);
}

function afterConnect(this: ConnectReq, status: number, handle: TcpHandle): void {
  if (status < 0) {
    handle.events.onFailure(handle, status);
    return;
  }
  const err = handle.readStart();
  if (err < 0) handle.events.onFailure(handle, err);
  else handle.events.onConnect(handle);
}

function afterWrite(this: WriteReq, status: number): void {
  if (status < 0) this.handle.events.onFailure(this.handle, status);
  else this.handle.events.onWritten(this.handle);
}

/**
 * Starts a connection. Reads land at the start of `receiveBuffer` (shared by all the handles of
 * a thread: each read is handled before the next). Returns the handle, or a negative errno.
 */
export function tcpConnect(address: string, port: number, noDelay: boolean, receiveBuffer: Uint8Array, events: TcpEvents): TcpHandle | number {
  const handle = new tcp.TCP(tcp.constants.SOCKET);
  handle.events = events;
  handle.onread = onRead;
  handle.useUserBuffer(receiveBuffer);
  const req = new tcp.TCPConnectWrap();
  req.oncomplete = afterConnect;
  const err = net.isIPv6(address) ? handle.connect6(req, address, port) : handle.connect(req, address, port);
  if (err < 0) {
    handle.close();
    return err;
  }
  if (noDelay) handle.setNoDelay(true);
  return handle;
}

/**
 * The request object of the next write. A write the kernel takes at once never binds its
 * request object (StreamBase skips the WriteWrap), so one object serves every such write; only a
 * write that goes asynchronous keeps its object, and the next write gets a fresh one.
 */
let writeReq = new stream.WriteWrap();

/** Writes `data` (kept alive by the caller until written). 1: done now, 0: pending (onWritten follows), <0: errno. */
export function tcpWrite(handle: TcpHandle, data: Uint8Array): number {
  const req = writeReq;
  req.handle = handle;
  req.buffer = data;
  req.oncomplete = afterWrite;
  const err = handle.writeBuffer(req, data);
  if (err < 0) return err;
  if (state[WRITE_WAS_ASYNC] === 0) return 1;
  writeReq = new stream.WriteWrap();
  return 0;
}

export function tcpClose(handle: TcpHandle): void {
  handle.close();
}
