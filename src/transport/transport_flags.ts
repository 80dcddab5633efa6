// The transport flags that only make sense together, checked once the serve config is built.
import type { ServeConfig } from '../config.ts';
import { UsageError } from '../errors.ts';

export function checkTransportFlags(config: ServeConfig): void {
  if (config.http2 && config.tls === null) throw new UsageError('--http2 needs --tls-cert and --tls-key: HTTP/2 is offered by ALPN in the TLS handshake (h2c is not served)');
  if (config.http2 && config.engine !== 'node') throw new UsageError('--http2 runs on node:http2: add --engine node (the fast engine speaks HTTP/1.1)');
  if (config.redirectHttp !== null && config.tls === null) throw new UsageError('--redirect-http needs --tls-cert and --tls-key: it redirects to the https port');
  if (config.redirectHttp !== null && config.redirectHttp !== 0 && config.redirectHttp === config.port) {
    throw new UsageError(`--redirect-http ${config.redirectHttp} is the https --port itself; pick another port (80, say)`);
  }
}
