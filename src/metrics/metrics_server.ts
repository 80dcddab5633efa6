// --metrics HOST:PORT: a small node:http server in the supervisor answering GET /metrics. It renders
// from the reports already in hand, so a scrape never waits on a worker (a stopped one shows as not up).
import http from 'node:http';
import { describeListenError } from '../errors.ts';
import { listenTarget } from '../supervisor/inherited_sockets.ts';
import { OPENMETRICS_CONTENT_TYPE, TEXT_CONTENT_TYPE } from './prometheus_text.ts';

/** `fd`: the listener an upgrade passed on (inherited_sockets.ts), served instead of binding host:port. */
export async function openMetricsServer(host: string, port: number, render: (openMetrics: boolean) => string, fd?: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0 }).end();
      return;
    }
    if (req.url !== '/metrics' && !req.url?.startsWith('/metrics?')) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('herd serves its metrics at /metrics\n');
      return;
    }
    const openMetrics = (req.headers.accept ?? '').includes('application/openmetrics-text');
    const body = render(openMetrics);
    res.writeHead(200, { 'Content-Type': openMetrics ? OPENMETRICS_CONTENT_TYPE : TEXT_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(body) });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(describeListenError(err, host, port)));
    server.listen(listenTarget(host, port, fd), resolve);
  });
  return server;
}
