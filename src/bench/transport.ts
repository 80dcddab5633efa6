// How a load connection reaches the server: plain TCP on the bare libuv handle (tcp_handle.ts, the
// cheap path), or TLS (tls_transport.ts). Connection drives either the same way: connect, write
// pre-encoded bytes, receive reads at the start of the thread's shared buffer, close.
import { tcpClose, tcpConnect, tcpWrite } from './tcp_handle.ts';
import type { TcpHandle } from './tcp_handle.ts';

/** What a transport reports to its owner. `handle` lets the owner ignore one it already dropped. */
export interface StreamEvents {
  onConnect(handle: object): void;
  /** `length` bytes arrived at the start of the receive buffer given to connect. */
  onData(handle: object, length: number): void;
  onEnd(handle: object): void;
  /** A negative errno (or ERRNO_UNKNOWN) from connect, handshake, read or an asynchronous write. */
  onFailure(handle: object, errno: number): void;
  /** An asynchronous write finished. */
  onWritten(handle: object): void;
}

export interface Transport {
  /** Starts a connection: the handle, or a negative errno. */
  connect(address: string, port: number, noDelay: boolean, receiveBuffer: Uint8Array, events: StreamEvents): object | number;
  /** 1: taken now, 0: pending (onWritten follows), < 0: errno. */
  write(handle: object, data: Uint8Array): number;
  close(handle: object): void;
  /** True when a write keeps a reference to the bytes after it returns 1 (so they must not be reused). */
  readonly keepsWrites: boolean;
}

/** A failure with no errno (a TLS alert, a certificate refused): reported as kind 'other'. */
export const ERRNO_UNKNOWN = -1_000_000;

export const plainTcp: Transport = {
  connect: tcpConnect,
  write: (handle, data) => tcpWrite(handle as TcpHandle, data),
  close: (handle) => tcpClose(handle as TcpHandle),
  keepsWrites: false,
};
