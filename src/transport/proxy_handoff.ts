// --proxy-protocol with --handoff sticky: the supervisor must know the client before it picks a
// worker, and only the PROXY header names it. So for this one combination the supervisor reads the
// header (and whatever arrived with it) off the accepted connection, makes the header's address the
// handle's peer address (which the sticky hash reads), and sends what it read with the descriptor;
// the worker puts those bytes back in front of the socket instead of reading a header again.
import net from 'node:net';
import type { ProxiedSource } from './proxy_protocol.ts';
import { parseProxyHeader } from './proxy_protocol.ts';

/** What the supervisor read off a connection before handing it off. */
export interface HeaderRead {
  /** The header's client; null: the connection's own (LOCAL, UNKNOWN). */
  source: ProxiedSource | null;
  /** The bytes after the header, base64 (the IPC channel carries JSON). */
  rest: string;
}

interface TcpHandle {
  getpeername?(out: Record<string, unknown>): number;
  readStop?(): number;
  close(): void;
}

const readFor = new WeakMap<object, HeaderRead>();

/** What travels with this connection's descriptor; undefined when the supervisor read nothing. */
export function headerReadFor(connection: object): HeaderRead | undefined {
  return readFor.get(connection);
}

/** Reads the header of an accepted connection's bare handle; `ready` gets the handle back, or nothing is called and it is closed. */
export function readHeaderBeforeHandoff<H extends TcpHandle>(connection: H, timeoutMs: number, ready: (connection: H) => void): void {
  const socket = new net.Socket({ handle: connection as never, readable: true, writable: true });
  let received: Buffer | null = null;
  const timer = timeoutMs > 0 ? setTimeout(() => socket.destroy(), timeoutMs) : undefined;
  socket.on('error', () => socket.destroy());
  socket.once('end', () => socket.destroy());
  socket.once('close', () => clearTimeout(timer));
  socket.on('data', (chunk: Buffer) => {
    received = received === null ? chunk : Buffer.concat([received, chunk]);
    const result = parseProxyHeader(received);
    if (result.t === 'incomplete') return;
    if (result.t === 'invalid') return void socket.destroy();
    clearTimeout(timer);
    socket.removeAllListeners();
    socket.pause();
    // The handle leaves the socket: destroying a handle-less socket later closes nothing.
    connection.readStop?.();
    (socket as unknown as { _handle: unknown })._handle = null;
    const source = result.source;
    if (source !== null) {
      connection.getpeername = (out) => {
        Object.assign(out, source);
        return 0;
      };
    }
    readFor.set(connection, { source, rest: received.subarray(result.length).toString('base64') });
    ready(connection);
  });
}
