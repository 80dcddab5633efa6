// Builds the bytes of the request herd bench sends, once, before the run: the hot path only
// ever writes these pre-encoded Buffers. The shape follows webbench's build_request(): HTTP/1.0
// by default, HEAD needs at least 1.0, OPTIONS and TRACE need 1.1, HTTP/0.9 is a bare request
// line, a proxy gets the absolute URL, and HTTP/1.1 without keep-alive asks for `Connection: close`.

export type HttpVersion = '0.9' | '1.0' | '1.1';

export interface RequestSpec {
  method: string;
  url: URL;
  http: HttpVersion;
  keepAlive: boolean;
  /** webbench's -r: ask caches for a fresh copy. */
  reload: boolean;
  /** Through a proxy the request target is the absolute URL. */
  viaProxy: boolean;
  /** Extra headers; one with the name of a default header replaces it. */
  headers: ReadonlyArray<readonly [string, string]>;
  body: Buffer | null;
  userAgent: string;
}

/** The protocol version webbench would actually use for this method. */
export function effectiveHttpVersion(method: string, http: HttpVersion): HttpVersion {
  if (method === 'HEAD' && http === '0.9') return '1.0';
  if (method === 'OPTIONS' || method === 'TRACE') return '1.1';
  return http;
}

export function buildRequest(spec: RequestSpec): Buffer {
  const http = effectiveHttpVersion(spec.method, spec.http);
  const target = spec.viaProxy ? spec.url.href : spec.url.pathname + spec.url.search;
  if (http === '0.9') return Buffer.from(`${spec.method} ${target}\r\n`, 'latin1');

  const headers: Array<[string, string]> = [
    ['Host', spec.url.host], // WHATWG URL already drops a default port
    ['User-Agent', spec.userAgent],
  ];
  if (spec.reload) headers.push(['Pragma', 'no-cache']);
  if (http === '1.1' && !spec.keepAlive) headers.push(['Connection', 'close']);
  if (http === '1.0' && spec.keepAlive) headers.push(['Connection', 'keep-alive']);
  if (spec.body) headers.push(['Content-Length', String(spec.body.length)]);
  for (const [name, value] of spec.headers) {
    const at = headers.findIndex(([n]) => n.toLowerCase() === name.toLowerCase());
    if (at >= 0) headers[at] = [name, value];
    else headers.push([name, value]);
  }
  let head = `${spec.method} ${target} HTTP/${http}\r\n`;
  for (const [name, value] of headers) head += `${name}: ${value}\r\n`;
  head += '\r\n';
  const bytes = Buffer.from(head, 'latin1');
  return spec.body ? Buffer.concat([bytes, spec.body]) : bytes;
}

/** `count` copies of one request back to back: a pipelined batch written in one call. */
export function repeatRequest(request: Buffer, count: number): Buffer {
  const batch = Buffer.allocUnsafe(request.length * count);
  for (let i = 0; i < count; i++) request.copy(batch, i * request.length);
  return batch;
}
