// --proxy-protocol on one connection: read its PROXY header before anything else, adopt the client
// address it names, and pass the socket on with the bytes after the header still unread (they are
// the TLS handshake or the first request). A connection without a valid header within the time
// allowed is closed; so is one that ends before it.
import type net from 'node:net';
import { adoptPeerAddress } from './peer_address.ts';
import { parseProxyHeader, type ProxiedSource } from './proxy_protocol.ts';
import type { HeaderRead } from './proxy_handoff.ts';

/** Handles whose header the supervisor already read (--handoff sticky), by the handle. */
const readBySupervisor = new WeakMap<object, HeaderRead>();

/** A handed-off descriptor arrived with what the supervisor read off it. */
export function noteHeaderRead(handle: object, read: HeaderRead): void {
  readBySupervisor.set(handle, read);
}

export function readProxyHeader(socket: net.Socket, timeoutMs: number, next: (socket: net.Socket) => void, onRefused?: (reason: string) => void): void {
  const handle = (socket as unknown as { _handle: object | null })._handle;
  const already = handle === null ? undefined : readBySupervisor.get(handle);
  if (already !== undefined) return passOn(socket, Buffer.from(already.rest, 'base64'), already.source, next);
  let received: Buffer | null = null;
  const timer = timeoutMs > 0 ? setTimeout(() => refuse('no PROXY header in time'), timeoutMs) : undefined;
  const onData = (chunk: Buffer): void => {
    received = received === null ? chunk : Buffer.concat([received, chunk]);
    const result = parseProxyHeader(received);
    if (result.t === 'incomplete') return;
    if (result.t === 'invalid') return refuse(result.reason);
    stopReading();
    passOn(socket, received.subarray(result.length), result.source, next);
  };
  const onGone = (): void => {
    stopReading();
    socket.destroy();
  };
  function stopReading(): void {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('error', onGone);
  }
  function refuse(reason: string): void {
    stopReading();
    socket.destroy();
    onRefused?.(reason);
  }
  socket.on('data', onData);
  socket.once('end', onGone);
  socket.once('error', onGone);
}

/** The bytes after the header back in front of the socket, the client's address adopted, and on. */
function passOn(socket: net.Socket, rest: Buffer, source: ProxiedSource | null, next: (socket: net.Socket) => void): void {
  socket.pause();
  if (rest.length > 0) socket.unshift(rest);
  if (source !== null) adoptPeerAddress(socket, source);
  next(socket);
  // node:http reads through a 'data' listener, which does not resume a socket paused by hand;
  // a TLS layer or the fast engine took the handle itself, and nothing is to be resumed.
  const holder = socket as unknown as { _handle: unknown };
  if (holder._handle !== null && socket.listenerCount('data') > 0 && socket.isPaused()) socket.resume();
}
