// TLS in front of an APP's own cleartext server (an app.listen() under --tls-cert): the handshake
// on a connection, then the TLS socket handed to the server's 'connection' listeners (node:http's)
// as a connection of its own. node:http needs a socket; the fast engine needs none and does TLS on
// bare handles instead (tls_handshake.ts).
//
// The socket goes on once the first request bytes are decrypted, not at the end of the handshake:
// a connection with no request yet is idle to the server, and a drain closes idle connections, so
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
