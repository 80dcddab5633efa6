// HTTPS connections for the load generator: node:tls sockets behind the Transport shape, so the
// HTTP/1.x state machine (connection.ts) is the same with and without TLS. Each decrypted chunk is
// copied into the thread's receive buffer and parsed there like a plain read. A thread keeps the
// last TLS session it was given and offers it on every new connection (resumption, as browsers
// and wrk do), unless `resume` is off: then every connection is a full handshake.
import os from 'node:os';
import tls from 'node:tls';
import { ERRNO_UNKNOWN } from './transport.ts';
import type { StreamEvents, Transport } from './transport.ts';

export interface TlsSettings {
  /** SNI and certificate name: the URL's host. */
  servername: string;
  /** --insecure: accept any certificate (self-signed ones for a test server). */
  insecure: boolean;
  /** Offer the last session ticket on a new connection. */
  resume: boolean;
  /** ALPN protocols to offer. */
  alpn: string[];
}

interface TlsHandle {
  socket: tls.TLSSocket;
  events: StreamEvents;
  receiveBuffer: Uint8Array;
}

function errnoOf(err: NodeJS.ErrnoException): number {
  const errno = err.code ? (os.constants.errno as Record<string, number>)[err.code] : undefined;
  return errno !== undefined ? -errno : ERRNO_UNKNOWN;
}

/** A transport for one thread: its own session cache. */
export function tlsTransport(settings: TlsSettings): Transport {
  let session: Buffer | undefined;
  return {
    connect(address, port, noDelay, receiveBuffer, events) {
      const socket = tls.connect({
        host: address,
        port,
        servername: settings.servername,
        rejectUnauthorized: !settings.insecure,
        session: settings.resume ? session : undefined,
        ALPNProtocols: settings.alpn,
      });
      socket.setNoDelay(noDelay);
      const handle: TlsHandle = { socket, events, receiveBuffer };
      if (settings.resume) socket.on('session', (ticket: Buffer) => (session = ticket));
      socket.once('secureConnect', () => {
        // Offering only h2 means HTTP/2 or nothing: a server that picked no protocol cannot be spoken to.
        if (settings.alpn.length === 1 && settings.alpn[0] === 'h2' && socket.alpnProtocol !== 'h2') events.onFailure(handle, ERRNO_UNKNOWN);
        else events.onConnect(handle);
      });
      socket.on('data', (chunk: Buffer) => {
        // A TLS record is at most 16 KiB, so this is one copy unless the buffer is smaller.
        for (let at = 0; at < chunk.length; at += receiveBuffer.length) {
          const piece = chunk.subarray(at, at + receiveBuffer.length);
          receiveBuffer.set(piece, 0);
          events.onData(handle, piece.length);
        }
      });
      socket.once('end', () => events.onEnd(handle));
      socket.on('error', (err: NodeJS.ErrnoException) => events.onFailure(handle, errnoOf(err)));
      return handle;
    },
    write(handle, data) {
      const { socket, events } = handle as TlsHandle;
      // node:tls buffers the write; it is as good as taken now.
      if (socket.write(data)) return 1;
      socket.once('drain', () => events.onWritten(handle));
      return 0;
    },
    close(handle) {
      (handle as TlsHandle).socket.destroy();
    },
    // A net.Socket queues the Buffer it is given while an earlier write is under way.
    keepsWrites: true,
  };
}
