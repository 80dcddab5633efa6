// --health HOST:PORT: /livez and /readyz from the supervisor, on a listener of its own, so a probe
// never queues behind application traffic and still answers while every worker restarts.
import http from 'node:http';
import { describeListenError } from '../errors.ts';
import { listenTarget } from '../supervisor/inherited_sockets.ts';
import { LIVE_ANSWER, readinessAnswer, type HealthAnswer, type ReadinessState } from './readiness.ts';

/** `fd`: the listener an upgrade passed on (inherited_sockets.ts), served instead of binding host:port. */
export async function openHealthServer(host: string, port: number, state: () => ReadinessState, fd?: number): Promise<http.Server> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    let answer: HealthAnswer;
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Length': 0, Connection: 'close' }).end();
      return;
    }
    if (path === '/livez') answer = LIVE_ANSWER;
    else if (path === '/readyz') answer = readinessAnswer(state());
    else answer = { status: 404 as 200, body: 'herd answers /livez and /readyz here\n' };
    // One answer per connection, as probes (kubelet, HAProxy's check) expect: no idle keep-alive
    // connection for a hand-over or a stop to cut while the prober's next request is on its way.
    res.writeHead(answer.status, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(answer.body), 'Cache-Control': 'no-store', Connection: 'close' });
    res.end(req.method === 'HEAD' ? undefined : answer.body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(describeListenError(err, host, port)));
    server.listen(listenTarget(host, port, fd), resolve);
  });
  return server;
}
