// --redirect-http PORT: a cleartext listener that sends every request to the https URL (308, so a
// POST stays a POST), as nginx's `return 308 https://$host$request_uri`. It answers nothing else,
// runs no user code, and is served by the supervisor (one small server, like --metrics).
import http from 'node:http';
import { describeListenError } from '../errors.ts';

export async function openHttpsRedirect(host: string, port: number, httpsPort: number, fd?: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const name = hostName(req.headers.host);
    if (name === null) {
      res.writeHead(400, { 'Content-Type': 'text/plain', Connection: 'close' }).end('Bad Request: a Host header is needed to redirect to https\n');
      return;
    }
    const location = `https://${name}${httpsPort === 443 ? '' : `:${httpsPort}`}${req.url?.startsWith('/') ? req.url : '/'}`;
    res.writeHead(308, { Location: location, 'Content-Type': 'text/plain', 'Content-Length': 0 }).end();
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(describeListenError(err, host, port)));
    server.listen(fd === undefined ? { port, host } : { fd }, resolve); // fd: an upgrade's (inherited_sockets.ts)
  });
  return server;
}

/** The host part of a Host header ([v6] kept in brackets), or null when it is missing or not a host. */
function hostName(header: string | undefined): string | null {
  if (header === undefined) return null;
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(?::\d{1,5})?$/.exec(header);
  return m ? m[1] : null;
}
