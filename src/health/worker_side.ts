// The worker's part of health and of --shutdown-delay. From the supervisor's `closing` message (a
// stop has begun; the balancer is being told) every response carries `Connection: close`, so a
// keep-alive client reconnects, and reaches a pod still in the endpoints, instead of reusing this
// one; and --health-path answers 503. Done by wrapping the request handler (portable: both engines
// honour a Connection: close the handler sets) or, for a server the APP made, its 'request' event.
import type http from 'node:http';
import type net from 'node:net';
import { readinessAnswer } from './readiness.ts';

let closing = false;

/** The supervisor began a stop (or this worker drains): readiness is over for this process. */
export function markClosing(): void {
  closing = true;
}

/** Any request listener shape (the fast engine's or node:http's); called with what the engine gives. */
type AnyHandler = (req: never, res: never) => unknown;

/** Answers `healthPath` itself and marks responses Connection: close once closing; null: nothing to do. */
export function healthAnswered(healthPath: string | null, req: { url?: string; method?: string }, res: http.ServerResponse): boolean {
  if (closing) res.setHeader('Connection', 'close');
  if (healthPath === null || (req.url ?? '').split('?')[0] !== healthPath) return false;
  const answer = readinessAnswer({ phase: closing ? 'stopping' : 'serving', readyWorkers: 1 });
  res.statusCode = answer.status;
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('Content-Length', String(Buffer.byteLength(answer.body)));
  res.end(req.method === 'HEAD' ? undefined : answer.body);
  return true;
}

/** herd's engines: the handler, with the health path and Connection: close in front. */
export function withWorkerHealth<H extends AnyHandler>(handler: H, healthPath: string | null): H {
  return ((req: http.IncomingMessage, res: http.ServerResponse) => {
    if (healthAnswered(healthPath, req, res)) return undefined;
    return handler(req as never, res as never);
  }) as unknown as H;
}

/** A server the APP started: its 'request' listeners never see the health path. */
export function watchAppServerHealth(server: net.Server, healthPath: string | null): void {
  const emit = server.emit as (this: net.Server, event: string | symbol, ...args: unknown[]) => boolean;
  server.emit = function (this: net.Server, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'request' && healthAnswered(healthPath, args[0] as http.IncomingMessage, args[1] as http.ServerResponse)) return true;
    return emit.call(this, event, ...args);
  } as typeof server.emit;
}
