// The options of one `herd bench` run, their defaults (webbench's where it has one), and their
// validation. Both the CLI and programmatic callers (herd lab) go through resolveOptions, so a
// bad value is the same one-line UsageError wherever it comes from.
import dns from 'node:dns/promises';
import { UsageError } from '../errors.ts';
import { buildRequest, effectiveHttpVersion } from './request.ts';
import type { HttpVersion } from './request.ts';
import type { Http2Plan } from './http2_connection.ts';
import { DEFAULT_WINDOW as MAX_H2_BODY, encodeHeaderBlock } from './h2_framing.ts';
import type { TlsSettings } from './tls_transport.ts';

export interface BenchProgress {
  elapsedSec: number;
  succeeded: number;
  failed: number;
  bytes: number;
}

export interface BenchOptions {
  url: string;
  /** webbench's clients; default 1. */
  connections?: number;
  /** Default 30 s, unless `requests` is given. */
  durationSec?: number;
  /** An exact total instead of a duration. */
  requests?: number;
  threads?: number;
  /** Default false: like webbench, a new connection per request. */
  keepAlive?: boolean;
  /** Requests in flight per connection; above 1 implies keepAlive. */
  pipeline?: number;
  force?: boolean;
  reload?: boolean;
  /** Default '1.0', as webbench. */
  http?: HttpVersion;
  method?: string;
  headers?: ReadonlyArray<readonly [string, string]>;
  body?: string | Buffer;
  /** host:port of an HTTP proxy. */
  proxy?: string;
  timeoutSec?: number;
  warmupSec?: number;
  /** Constant total request rate (requests/s). */
  rate?: number;
  /** https://: accept any certificate (a self-signed test server's). */
  insecure?: boolean;
  /** https://: offer the last TLS session on each new connection. Default true. */
  tlsResume?: boolean;
  /** HTTP/2: over TLS by ALPN for https://, prior knowledge (h2c) for http://. */
  http2?: boolean;
  /** HTTP/2 streams in flight per connection. Default 1. */
  streams?: number;
  /** Called once a second during the run. */
  onProgress?: (progress: BenchProgress) => void;
}

/** A run ready to go: every default filled in, the address resolved, the request encoded. */
export interface ResolvedBench {
  url: string;
  method: string;
  http: HttpVersion;
  address: string;
  port: number;
  request: Buffer;
  connections: number;
  threads: number;
  keepAlive: boolean;
  pipeline: number;
  force: boolean;
  reload: boolean;
  proxy: string | null;
  durationSec: number;
  requests: number;
  warmupSec: number;
  rate: number;
  timeoutSec: number;
  tls: TlsSettings | null;
  http2: Http2Plan | null;
}

export const DEFAULT_DURATION_SEC = 30;
export const DEFAULT_TIMEOUT_SEC = 10;
const MAX_CONNECTIONS = 100_000;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
export const USER_AGENT = 'herd-bench/0.1';

function wholeNumber(value: number | undefined, name: string, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new UsageError(`${name} must be a whole number from ${min} to ${max}, not ${value}`);
  }
  return value;
}

function positiveSeconds(value: number | undefined, name: string, fallback: number, allowZero = false): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0 || (value === 0 && !allowZero)) {
    throw new UsageError(`${name} must be a ${allowZero ? 'non-negative' : 'positive'} number of seconds, not ${value}`);
  }
  return value;
}

function parseUrl(text: string, viaProxy: boolean): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`'${text}' is not a valid URL (expected http://host[:port]/path)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:' && !viaProxy) {
    throw new UsageError(`unsupported scheme '${url.protocol.slice(0, -1)}' in ${text}: only http:// and https:// are supported directly; use --proxy for others`);
  }
  if (url.protocol === 'https:' && viaProxy) throw new UsageError('--proxy carries http:// only; https:// through a proxy (CONNECT) is not supported');
  if (url.hostname === '') throw new UsageError(`'${text}' has no host`);
  return url;
}

function parseProxy(text: string): { host: string; port: number } {
  const match = /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(text);
  const port = match ? Number(match[2]) : NaN;
  if (!match || port < 1 || port > 65535) throw new UsageError(`--proxy must be host:port, not '${text}'`);
  return { host: match[1], port };
}

async function resolveHost(host: string): Promise<string> {
  const bare = host.startsWith('[') ? host.slice(1, -1) : host;
  try {
    return (await dns.lookup(bare)).address;
  } catch {
    throw new UsageError(`host '${bare}' does not resolve`);
  }
}

/** The HTTP/2 request: pseudo-headers, herd bench's User-Agent, the user's headers in lower case. */
function h2Headers(method: string, url: URL, extra: ReadonlyArray<readonly [string, string]>, body: Buffer | null): Array<[string, string]> {
  const headers = new Map<string, string>([[':method', method], [':scheme', url.protocol.slice(0, -1)], [':authority', url.host], [':path', url.pathname + url.search], ['user-agent', USER_AGENT]]);
  if (body) headers.set('content-length', String(body.length));
  for (const [name, value] of extra) {
    const lower = name.toLowerCase();
    if (lower === 'host') headers.set(':authority', value);
    else if (lower !== 'connection' && lower !== 'keep-alive' && lower !== 'transfer-encoding') headers.set(lower, value); // connection-specific: not allowed in HTTP/2
  }
  return [...headers];
}

export async function resolveOptions(options: BenchOptions): Promise<ResolvedBench> {
  const proxy = options.proxy ?? null;
  const url = parseUrl(options.url, proxy !== null);
  const connections = wholeNumber(options.connections, 'clients', 1, MAX_CONNECTIONS, 1);
  const force = options.force ?? false;
  const pipeline = wholeNumber(options.pipeline, 'pipeline', 1, 1024, 1);
  const keepAlive = (options.keepAlive ?? false) || pipeline > 1;
  const method = options.method ?? 'GET';
  if (!TOKEN.test(method)) throw new UsageError(`'${method}' is not a valid HTTP method`);
  const http = effectiveHttpVersion(method, options.http ?? '1.0');
  if (force && keepAlive) throw new UsageError('--force closes each connection once the request is written; it cannot be combined with --keep-alive or --pipeline');
  if (http === '0.9' && keepAlive) throw new UsageError('HTTP/0.9 has no keep-alive; drop -9 or --keep-alive/--pipeline');
  if (options.requests !== undefined && options.durationSec !== undefined) {
    throw new UsageError('give either --requests or --time, not both');
  }
  const requests = wholeNumber(options.requests, 'requests', 1, Number.MAX_SAFE_INTEGER, 0);
  const durationSec = requests > 0 ? 0 : positiveSeconds(options.durationSec, 'time', DEFAULT_DURATION_SEC);
  const rate = options.rate === undefined ? 0 : options.rate;
  if (!Number.isFinite(rate) || rate < 0 || (options.rate !== undefined && rate === 0)) {
    throw new UsageError(`rate must be a positive number of requests per second, not ${options.rate}`);
  }
  if (rate > 0 && pipeline > 1) throw new UsageError('--rate sends one request at a time per connection; it cannot be combined with --pipeline');
  let threads = wholeNumber(options.threads, 'threads', 1, 256, 1);
  if (threads > connections) throw new UsageError(`--threads (${threads}) cannot exceed the number of clients (${connections})`);
  if (requests > 0) threads = Math.min(threads, requests); // every thread needs at least one request
  const headers = options.headers ?? [];
  for (const [name, value] of headers) {
    if (!TOKEN.test(name)) throw new UsageError(`'${name}' is not a valid header name`);
    if (/[\r\n\0]/.test(value)) throw new UsageError(`the value of header '${name}' holds a line break or NUL`);
  }
  const body = options.body === undefined ? null : Buffer.from(options.body);

  const secure = url.protocol === 'https:';
  const http2 = options.http2 ?? false;
  if (options.streams !== undefined && !http2) throw new UsageError('--streams is the number of HTTP/2 streams per connection; it needs --http2');
  const streams = wholeNumber(options.streams, 'streams', 1, 1000, 1);
  if (http2) {
    if (pipeline > 1) throw new UsageError('--pipeline is HTTP/1.1 pipelining; with --http2 use --streams');
    if (force) throw new UsageError('--force cannot be combined with --http2');
    if (proxy !== null) throw new UsageError('--proxy cannot be combined with --http2');
    if (rate > 0) throw new UsageError('--rate cannot be combined with --http2 yet');
    if (options.http !== undefined) throw new UsageError('-9/-1/-2 choose an HTTP/1.x version; they cannot be combined with --http2');
    if (body !== null && body.length > MAX_H2_BODY) throw new UsageError(`with --http2 the request body is at most ${MAX_H2_BODY} bytes (one initial HTTP/2 stream window), not ${body.length}`);
  }
  if ((options.insecure !== undefined || options.tlsResume !== undefined) && !secure) throw new UsageError('--insecure and --no-tls-resume need an https:// URL');
  const target = proxy === null ? { host: url.hostname, port: Number(url.port) || (secure ? 443 : 80) } : parseProxy(proxy);
  const address = await resolveHost(target.host);
  const bare = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const servername = /^[\d.]+$|:/.test(bare) ? '' : bare; // SNI carries names, not addresses
  const tls: TlsSettings | null = secure
    ? { servername, insecure: options.insecure ?? false, resume: options.tlsResume ?? true, alpn: http2 ? ['h2'] : ['http/1.1'] }
    : null;
  const h2: Http2Plan | null = http2 ? { streams, headerBlock: encodeHeaderBlock(h2Headers(method, url, headers, body)), body } : null;
  const request = buildRequest({ method, url, http, keepAlive, reload: options.reload ?? false, viaProxy: proxy !== null, headers, body, userAgent: USER_AGENT });
  return {
    url: url.href,
    method,
    http,
    address,
    port: target.port,
    request,
    connections,
    threads,
    keepAlive: keepAlive || http2,
    pipeline,
    force,
    reload: options.reload ?? false,
    proxy,
    durationSec,
    requests,
    warmupSec: positiveSeconds(options.warmupSec, 'warmup', 0, true),
    rate,
    timeoutSec: positiveSeconds(options.timeoutSec, 'timeout', DEFAULT_TIMEOUT_SEC),
    tls,
    http2: h2,
  };
}
