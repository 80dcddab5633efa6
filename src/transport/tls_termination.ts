// TLS for the fast engine: the handshake on a connection, then the TLS socket handed to the engine
// as a connection of its own. The engine takes the socket's native handle (a TLSWrap, a stream
// handle like TCP's), so its parser and corked writes run over TLS unchanged, with no net.Socket
// stream in the way (measured: scripts/bench-tls.ts). node:https does the same for the node engine.
//
// The socket goes on once the first request bytes are decrypted, not at the end of the handshake:
// a connection with no request yet is idle to the engine, and a drain closes idle connections, so
// a client whose request was on its way one round trip behind the handshake would see a reset.
import net from 'node:net';
import tls from 'node:tls';

export function terminateTls(raw: net.Socket, context: tls.SecureContext, handshakeTimeoutMs: number, next: (socket: tls.TLSSocket) => void): void {
  const socket = new tls.TLSSocket(raw, { isServer: true, secureContext: context, ALPNProtocols: ['http/1.1'] });
  const timer = handshakeTimeoutMs > 0 ? setTimeout(() => socket.destroy(), handshakeTimeoutMs) : undefined;
  // A failed handshake (a scanner, a client refusing our certificate) is the client's business.
  socket.on('error', () => socket.destroy());
  raw.on('error', () => raw.destroy());
  socket.once('close', () => clearTimeout(timer));
  socket.once('secure', () => {
    const onReadable = (): void => {
      if (socket.readableLength === 0) return;
      socket.off('readable', onReadable);
      clearTimeout(timer);
      next(socket);
    };
    socket.on('readable', onReadable);
  });
}
