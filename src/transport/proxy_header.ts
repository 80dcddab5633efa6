// --proxy-protocol on one connection: read its PROXY header before anything else, adopt the client
// address it names, and pass the socket on with the bytes after the header still unread (they are
// the TLS handshake or the first request). A connection without a valid header within the time
// allowed is closed; so is one that ends before it.
import type net from 'node:net';
import { adoptPeerAddress } from './peer_address.ts';
import { parseProxyHeader } from './proxy_protocol.ts';

export function readProxyHeader(socket: net.Socket, timeoutMs: number, next: (socket: net.Socket) => void, onRefused?: (reason: string) => void): void {
  let received: Buffer | null = null;
  const timer = timeoutMs > 0 ? setTimeout(() => refuse('no PROXY header in time'), timeoutMs) : undefined;
  const onData = (chunk: Buffer): void => {
    received = received === null ? chunk : Buffer.concat([received, chunk]);
    const result = parseProxyHeader(received);
    if (result.t === 'incomplete') return;
    if (result.t === 'invalid') return refuse(result.reason);
    stopReading();
    socket.pause();
    const rest = received.subarray(result.length);
    if (rest.length > 0) socket.unshift(rest);
    if (result.source !== null) adoptPeerAddress(socket, result.source);
    next(socket);
    // node:http reads through a 'data' listener, which does not resume a socket paused by hand;
    // a TLS layer or the fast engine took the handle itself, and nothing is to be resumed.
    const holder = socket as unknown as { _handle: unknown };
    if (holder._handle !== null && socket.listenerCount('data') > 0 && socket.isPaused()) socket.resume();
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
