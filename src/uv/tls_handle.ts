// TLS on an accepted connection's handle, with no net.Socket or tls.TLSSocket around it: the
// TLSWrap node:tls would build, built directly (tls_wrap.wrap), and driven like any stream handle
// (stream_handle.ts). A TLSSocket costs a full handshake tens of µs of JavaScript for nothing the
// fast engine uses: two stream objects, their states, listeners and events, and their teardown
// (measured: scripts/bench-tls.ts, README "HTTPS vs nginx").
//
// A TLSWrap calls into JavaScript only for the hooks set on it. None is set for the handshake (the
// first decrypted bytes say it is done); `onerror` is, or a protocol error would go unnoticed.
// Renegotiation, which node:tls bounds from its handshake hook, is refused by the context instead
// (SSL_OP_NO_RENEGOTIATION, tls_credentials.ts).
import type tls from 'node:tls';
import { tlsBinding } from './binding.ts';
import type { UvTls } from './binding.ts';
import { serializeWrites } from './stream_handle.ts';
import type { StreamHandle } from './stream_handle.ts';

/** libuv's UV_EPROTO: what the owner hears of a TLS protocol error. */
const UV_EPROTO = -71;

export type TlsHandle = StreamHandle & UvTls;

/** The handle under a TLSWrap keeps it alive. */
interface WrappedHandle extends StreamHandle {
  herdTls: UvTls | null;
}

/**
 * Wraps an accepted handle (server side) in TLS with `context`, offering `alpn` (wire format:
 * length-prefixed names) or nothing. The caller then attaches it (attachHandle) like any handle:
 * the handshake runs as the client's bytes arrive, and its reads are the decrypted bytes.
 */
export function wrapTls(handle: StreamHandle, context: tls.SecureContext, alpn: Uint8Array | null): TlsHandle {
  const native = (context as unknown as { context: object }).context;
  const wrapped = tlsBinding!.wrap(handle, native, true, false) as TlsHandle;
  // A TLSWrap is weak: collected, it would leave the TCP handle under it reading with no listener
  // (a fatal assertion in node). The TCP handle is strong while open; node:tls links the two
  // through its sockets, here the handle holds the wrap.
  (handle as WrappedHandle).herdTls = wrapped;
  wrapped._parent = handle;
  wrapped.herdOwner = null;
  wrapped.onerror = onTlsError;
  wrapped.close = closeTls;
  serializeWrites(wrapped);
  if (alpn !== null) wrapped.setALPNProtocols(alpn);
  return wrapped;
}

function onTlsError(this: UvTls): void {
  (this as TlsHandle).herdOwner?.onFailure(UV_EPROTO);
}

/**
 * Closes the connection, then frees its OpenSSL state (node:tls does the same from its socket's
 * 'close'); not at once, since a close may come from a read callback, on OpenSSL's stack.
 */
function closeTls(this: UvTls): void {
  const wrapped = this;
  const parent = this._parent as WrappedHandle;
  parent.close(() => {
    parent.herdTls = null;
    wrapped.destroySSL();
  });
}
