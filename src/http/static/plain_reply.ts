// Short answers with a text body: errors, redirects, listings.
import http from 'node:http';
import type { Response } from '../types.ts';

export function sendText(res: Response, status: number, isHead: boolean, headers: Record<string, string> = {}, text?: string, type = 'text/plain; charset=utf-8'): void {
  const body = Buffer.from(text ?? `${http.STATUS_CODES[status] ?? 'Error'}\n`, 'utf8');
  res.writeHead(status, { ...headers, 'Content-Type': type, 'Content-Length': String(body.length) });
  if (isHead) res.end();
  else res.end(body);
}
