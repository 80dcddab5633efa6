// Node's libuv stream bindings (stream_wrap, tcp_wrap, tls_wrap: the layer under net.Socket and
// tls.TLSSocket), declared once.
// Why herd goes under net.Socket at all: for a 'Hello, World!' the Duplex stream machinery around
// each socket (its states, buffering, events, a JS Buffer per read) costs more CPU than the HTTP
// work, on the server (the fast engine, logd) and on the load generator alike. This folder is the
// only place that knows the bindings' shape: stream_handle.ts drives accepted connections (engine,
// logd), writer.ts the writes of both sides, tls_handle.ts TLS on an accepted handle; the load
// generator's connects (bench/tcp_handle.ts) build on the declarations here.
//
// Loading this module never fails: without the bindings (another Node) `streamBinding` is null and
// users say so with requireStreamBinding, so --engine node still works.
import { HerdError } from '../errors.ts';

/** The part of a libuv stream handle (TCPWrap, PipeWrap, TLSWrap) herd uses. */
export interface UvStream {
  onread: (this: never) => void;
  readStart(): number;
  readStop(): number;
  /** Reads land in `buffer` (from its start) instead of a new Buffer each. */
  useUserBuffer(buffer: Uint8Array): void;
  writeBuffer(req: WriteReq, data: Uint8Array): number;
  writev(req: WriteReq, chunks: Uint8Array[], allBuffers: boolean): number;
  shutdown(req: ShutdownReq): number;
  setNoDelay?(on: boolean): number;
  getpeername?(out: { address?: string }): number;
  close(callback?: () => void): void;
}

/** A TCP handle made here (a client's): it can connect. */
export interface UvTcp extends UvStream {
  connect(req: ConnectReq, address: string, port: number): number;
  connect6(req: ConnectReq, address: string, port: number): number;
  setNoDelay(on: boolean): number;
}

/** A write's request object; its fields are ours, set only when the write goes asynchronous. */
export interface WriteReq {
  /** undefined until the write goes asynchronous (a fresh request has none), null once it is done. */
  handle: UvStream | null | undefined;
  buffer: Uint8Array | Uint8Array[] | null;
  bytes: number;
  oncomplete: (this: WriteReq, status: number) => void;
}

export interface ShutdownReq {
  handle: UvStream;
  oncomplete: (this: ShutdownReq, status: number) => void;
}

export interface ConnectReq {
  oncomplete: (this: ConnectReq, status: number, handle: UvTcp) => void;
}

export interface StreamBinding {
  WriteWrap: new () => WriteReq;
  ShutdownWrap: new () => ShutdownReq;
  /** Where a read's byte count (or error) and a write's sync/async outcome are left for JS. */
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** A TLSWrap made by tls_wrap.wrap: a stream handle (TLS on top of `_parent`) with OpenSSL's hooks. */
export interface UvTls extends UvStream {
  /** The stream under it. node:tls's methods on TLSWrap.prototype (close, getpeername, setNoDelay) go through it. */
  _parent: UvStream;
  /** Called on a TLS protocol error (a bad record, an alert); without it the error goes unnoticed. */
  onerror: ((this: UvTls, error: Error) => void) | null;
  /** Encrypted bytes read before the wrap (a handed-over socket's): handled as if just read. */
  receive(data: Uint8Array): void;
  /** The protocols the server picks from by ALPN, in wire format (length-prefixed names). */
  setALPNProtocols(protocols: Uint8Array): void;
  /** Frees the connection's OpenSSL state; pending writes complete with ECANCELED. */
  destroySSL(): void;
}

export interface TlsBinding {
  /** Wraps a connected stream handle in TLS with `context` (a tls.SecureContext's native `context`). */
  wrap(handle: UvStream, context: object, isServer: boolean, hasActiveWriteFromPrevOwner: boolean): UvTls;
}

export interface TcpBinding {
  TCP: new (type: number) => UvTcp;
  TCPConnectWrap: new () => ConnectReq;
  constants: { SOCKET: number };
}

type BindingLoader = (name: string) => unknown;

function load<T>(name: string, check: (b: Partial<T>) => boolean): T | null {
  const binding = (process as unknown as { binding?: BindingLoader }).binding;
  try {
    const loaded = typeof binding === 'function' ? (binding(name) as Partial<T>) : undefined;
    return loaded !== undefined && check(loaded) ? (loaded as T) : null;
  } catch {
    return null;
  }
}

export const streamBinding = load<StreamBinding>('stream_wrap', (b) => b.WriteWrap !== undefined && b.ShutdownWrap !== undefined && b.streamBaseState instanceof Int32Array);
export const tcpBinding = load<TcpBinding>('tcp_wrap', (b) => b.TCP !== undefined && b.TCPConnectWrap !== undefined);
export const tlsBinding = load<TlsBinding>('tls_wrap', (b) => typeof b.wrap === 'function');

/** Users (the fast engine, logd, the load generator) call this first: everything here needs the binding. */
export function requireStreamBinding(user: string, otherwise: string): void {
  if (streamBinding === null) missing(user, 'stream_wrap', otherwise);
}

/** TLS on accepted handles (the fast engine's) also needs tls_wrap. */
export function requireTlsBinding(user: string, otherwise: string): void {
  if (streamBinding === null) missing(user, 'stream_wrap', otherwise);
  if (tlsBinding === null) missing(user, 'tls_wrap', otherwise);
}

/** The load generator's connects also need tcp_wrap. */
export function requireTcpBinding(user: string, otherwise: string): void {
  if (streamBinding === null) missing(user, 'stream_wrap', otherwise);
  if (tcpBinding === null) missing(user, 'tcp_wrap', otherwise);
}

function missing(user: string, name: string, otherwise: string): never {
  throw new HerdError(`${user} needs Node's ${name} binding, which this Node (${process.version}) lacks; use Node 24, or ${otherwise}`);
}

/** Read with `state[READ_RESULT]` in an onread callback, `state[WRITE_WAS_ASYNC]` right after a write. */
export const state = streamBinding?.streamBaseState ?? new Int32Array(8);
export const READ_RESULT = streamBinding?.kReadBytesOrError ?? 0;
export const WRITE_WAS_ASYNC = streamBinding?.kLastWriteWasAsync ?? 0;
/** libuv's UV_EOF. */
export const UV_EOF = -4095;
