// The options of one `herd bench` run, their defaults (webbench's where it has one), and their
// validation. Both the CLI and programmatic callers (herd lab) go through resolveOptions, so a
// bad value is the same one-line UsageError wherever it comes from.
import dns from 'node:dns/promises';
import { UsageError } from '../errors.ts';
import { buildRequest, effectiveHttpVersion } from './request.ts';
import type { HttpVersion } from './request.ts';

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
  if (url.protocol !== 'http:' && !viaProxy) {
    throw new UsageError(`unsupported scheme '${url.protocol.slice(0, -1)}' in ${text}: only http:// is supported directly; use --proxy for others`);
  }
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

  const target = proxy === null ? { host: url.hostname, port: Number(url.port) || 80 } : parseProxy(proxy);
  const address = await resolveHost(target.host);
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
    keepAlive,
    pipeline,
    force,
    reload: options.reload ?? false,
    proxy,
    durationSec,
    requests,
    warmupSec: positiveSeconds(options.warmupSec, 'warmup', 0, true),
    rate,
    timeoutSec: positiveSeconds(options.timeoutSec, 'timeout', DEFAULT_TIMEOUT_SEC),
  };
}
