// Client TCP connections on libuv handles directly (Node's own tcp_wrap binding, the layer under
// net.Socket; declared in src/uv/binding.ts). Why not net.Socket: each one builds a Duplex stream,
// its states and listeners, and on this machine a connection per request then costs ~110 µs of the
// generator's CPU against ab's ~55 µs; on the bare handle it costs ~60 µs. The load generator has
// to be the cheaper side of the measurement, so the hot path talks to the handle. Every callback
// is one shared function (no closure per connection) that finds its connection through the handle.
import { READ_RESULT, requireTcpBinding, state, tcpBinding, UV_EOF } from '../uv/binding.ts';
import type { ConnectReq, UvStream, UvTcp } from '../uv/binding.ts';
import { createStreamWriter } from '../uv/writer.ts';

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

/** A client TCP handle, plus the owner we attach. */
export interface TcpHandle extends UvTcp {
  events: TcpEvents;
  onread: (this: TcpHandle) => void;
}

requireTcpBinding('herd bench', 'run it with Node 24');
const tcp = tcpBinding!;

function onRead(this: TcpHandle): void {
  const nread = state[READ_RESULT];
  if (nread > 0) this.events.onData(this, nread);
  else if (nread === UV_EOF) this.events.onEnd(this);
  else if (nread < 0) this.events.onFailure(this, nread);
}

function afterConnect(this: ConnectReq, status: number, uvHandle: UvTcp): void {
  const handle = uvHandle as TcpHandle;
  if (status < 0) {
    handle.events.onFailure(handle, status);
    return;
  }
  handle.events.onConnect(handle);
}

const writer = createStreamWriter((handle: UvStream, status: number) => {
  const tcpHandle = handle as TcpHandle;
  if (status < 0) tcpHandle.events.onFailure(tcpHandle, status);
  else tcpHandle.events.onWritten(tcpHandle);
});

/**
 * Starts a connection. Reads land at the start of `receiveBuffer` (shared by all the handles of
 * a thread: each read is handled before the next). Returns the handle, or a negative errno.
 */
export function tcpConnect(address: string, port: number, noDelay: boolean, receiveBuffer: Uint8Array, events: TcpEvents): TcpHandle | number {
  const handle = new tcp.TCP(tcp.constants.SOCKET) as TcpHandle;
  handle.events = events;
  handle.onread = onRead;
  handle.useUserBuffer(receiveBuffer);
  const req = new tcp.TCPConnectWrap();
  req.oncomplete = afterConnect;
  // The address is already resolved to an IP: only an IPv6 one has a colon (net.isIPv6 is a regexp).
  const err = address.includes(':') ? handle.connect6(req, address, port) : handle.connect(req, address, port);
  // Reading starts now rather than in afterConnect: libuv reports the connect before any read
  // of the handle, and the poll interest is set up once, with the connect's.
  const readErr = err < 0 ? err : handle.readStart();
  if (readErr < 0) {
    handle.close();
    return readErr;
  }
  if (noDelay) handle.setNoDelay(true);
  return handle;
}

/** Writes `data` (kept alive by the caller until written). 1: done now, 0: pending (onWritten follows), <0: errno. */
export function tcpWrite(handle: TcpHandle, data: Uint8Array): number {
  return writer.write(handle, data);
}

export function tcpClose(handle: TcpHandle): void {
  handle.close();
}
