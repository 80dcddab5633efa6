// The one typed configuration of `herd serve`: defaults and validation. The CLI parses flags into
// strings; this module turns them into a checked ServeConfig or throws a UsageError.
import os from 'node:os';
import path from 'node:path';
import { UsageError } from './errors.ts';
import { runtimeDirPath } from './supervisor/runtime_dir.ts';

export const DISPATCH_MODES = ['reuseport', 'shared', 'handoff'] as const;
export type DispatchMode = (typeof DISPATCH_MODES)[number];

export const HANDOFF_POLICIES = ['rr', 'least', 'sticky'] as const;
export type HandoffPolicy = (typeof HANDOFF_POLICIES)[number];

export const ENGINES = ['fast', 'node'] as const;
export type EngineName = (typeof ENGINES)[number];

export interface ServeConfig {
  /** Absolute path of the app module, or null for the built-in hello-world app. */
  app: string | null;
  host: string;
  port: number;
  workers: number;
  dispatch: DispatchMode;
  handoff: HandoffPolicy;
  engine: EngineName;
  /** Seconds a draining worker may take before it is killed. */
  graceSeconds: number;
  /** A worker not ready this long after it was spawned is killed (0: wait forever). */
  startTimeoutMs: number;
  /** A worker that has not answered its heartbeat for this long is killed and replaced (0: never). */
  unresponsiveTimeoutMs: number;
  /** --max-memory MB: a worker whose RSS is above this many bytes is replaced (start the new, drain the old); 0: no limit. */
  maxMemoryBytes: number;
  /** A request whose response has not finished within this many ms gets 503 and its connection closed. */
  requestTimeoutMs: number;
  /** Time allowed for the request head to arrive (slowloris bound). */
  headersTimeoutMs: number;
  /** Idle keep-alive connections are closed after this many ms. */
  keepAliveTimeoutMs: number;
  /** Per-worker cap on open connections; 0 means no cap. */
  maxConnections: number;
  /** Largest request body accepted, in bytes (413 above it); 0: no limit (the node engine's default). */
  bodyLimit: number;
  /** A request body with no bytes for this many ms gets 408; 0: off. */
  bodyTimeoutMs: number;
  /** A streaming response that moves no bytes for this many ms is cut (and logged); 0: off. */
  idleTimeoutMs: number;
  backlog: number;
  controlPath: string;
  pidFile: string | null;
  /** Access log file, '-' for logd's stdout, null when off. */
  accessLog: string | null;
  accessLogFormat: AccessLogFormat;
  /** Supervisor events: '-' for the supervisor's stderr, else a file written by logd. */
  errorLog: string;
  /** Per-worker memory for access-log records logd has not taken yet; past it records are dropped. */
  logBufferBytes: number;
  static: StaticConfig | null;
  /** --request-id: keep or make an X-Request-Id for every request, in the response and the access log. */
  requestId: boolean;
  /** --metrics HOST:PORT: the supervisor serves Prometheus metrics there; null when off. */
  metrics: { host: string; port: number } | null;
  /** --health HOST:PORT: the supervisor answers /livez and /readyz there; null when off. */
  health: { host: string; port: number } | null;
  /** --health-path PATH: workers answer it on the main port with readiness; null when off. */
  healthPath: string | null;
  /** --shutdown-delay: ms between readiness turning 503 at a stop and the drain; 0: drain at once. */
  shutdownDelayMs: number;
  /** systemd socket activation: the listening descriptor passed (LISTEN_FDS), served instead of binding host:port. */
  listenFd: number | null;
  /** --watch: absolute paths whose changes reload the workers (development); null when off. */
  watch: string[] | null;
  /** --tls-cert/--tls-key (with --tls-ca, --tls-min-version): HTTPS on the main port; null: cleartext. */
  tls: TlsConfig | null;
  /** --http2: HTTP/2 offered by ALPN beside HTTP/1.1 (node engine, with TLS). */
  http2: boolean;
  /** --redirect-http PORT: a cleartext listener answering 308 to the https URL; null when off. */
  redirectHttp: number | null;
  /** --proxy-protocol: every connection starts with a PROXY v1 or v2 header, whose client address is used. */
  proxyProtocol: boolean;
  /** --trust-proxy CIDR,...: X-Forwarded-For from these addresses is the logged client address. */
  trustProxy: string[];
}

export const TLS_VERSIONS = ['TLSv1.2', 'TLSv1.3'] as const;
export type TlsVersion = (typeof TLS_VERSIONS)[number];

/** Files, read by each worker when it starts (so a reload's new workers read them again). */
export interface TlsConfig {
  cert: string;
  key: string;
  /** Intermediate certificates sent after the leaf; null: none. */
  ca: string | null;
  minVersion: TlsVersion;
  /** Session tickets issued (resumption by ticket); false: --no-tls-tickets. */
  tickets: boolean;
}

export const ACCESS_LOG_FORMATS = ['combined', 'combined_id', 'json'] as const;
export type AccessLogFormat = (typeof ACCESS_LOG_FORMATS)[number];

/** `--static DIR` and its companions; served before the app (or alone). */
export interface StaticConfig {
  root: string;
  /** Only requests under this path are files; null: every path is tried as a file first. */
  prefix: string | null;
  autoindex: boolean;
  followSymlinks: boolean;
  cacheControl: string | null;
}

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 8080,
  graceSeconds: 30,
  startTimeoutMs: 30_000,
  unresponsiveTimeoutMs: 10_000,
  maxMemoryBytes: 0,
  requestTimeoutMs: 30_000,
  headersTimeoutMs: 10_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 0,
  bodyLimit: 1024 * 1024,
  bodyTimeoutMs: 30_000,
  idleTimeoutMs: 60_000,
  backlog: 511,
  logBufferBytes: 4 * 1024 * 1024,
} as const;

/** Where `herd serve` listens for `herd status|reload|stop` unless --control says otherwise. */
export function defaultControlPath(port: number): string {
  // Port 0 means "any free port": two such herds must not share a socket.
  return path.join(runtimeDirPath(), port === 0 ? `herd-pid${process.pid}.sock` : `herd-${port}.sock`);
}

export function defaultDispatch(): DispatchMode {
  return process.platform === 'linux' ? 'reuseport' : 'shared';
}

export function parsePort(value: string, flag = '--port'): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 0 || n > 65535) {
    throw new UsageError(`${flag} must be a port number from 0 to 65535, not '${value}'`);
  }
  return n;
}

/** HOST:PORT, [IPv6]:PORT, or PORT alone (on 127.0.0.1: what it serves is for this machine's scraper unless said otherwise). */
export function parseListenAddress(value: string, flag: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]+)):(\d+)$/.exec(value);
  if (m) return { host: m[1] ?? m[2], port: parsePort(m[3], flag) };
  if (/^\d+$/.test(value)) return { host: '127.0.0.1', port: parsePort(value, flag) };
  throw new UsageError(`${flag} must be HOST:PORT or PORT, not '${value}'`);
}

export function parseWorkers(value: string): number {
  if (value === 'auto') return os.availableParallelism();
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 1024) {
    throw new UsageError(`--workers must be 'auto' or a whole number from 1 to 1024, not '${value}'`);
  }
  return n;
}

export function parseSeconds(value: string, flag: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
    throw new UsageError(`${flag} must be a number of seconds (0 or more), not '${value}'`);
  }
  return n;
}

/** The longest delay a Node timer holds; a larger one fires after 1 ms. */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/** Seconds for a timer, in ms: 0 is off; more than a timer can hold is refused. */
export function parseTimeoutSeconds(value: string, flag: string): number {
  const ms = Math.round(parseSeconds(value, flag) * 1000);
  if (ms > MAX_TIMER_MS) throw new UsageError(`${flag} ${value} is too long: at most ${Math.floor(MAX_TIMER_MS / 1000)} seconds (0 turns it off)`);
  return ms;
}

export function parseHealthPath(value: string): string {
  if (!/^\/[\x21-\x7e]*$/.test(value) || value.includes('?')) throw new UsageError(`--health-path must be a path starting with / (no query, no spaces), not '${value}'`);
  return value;
}

export function parseCount(value: string, flag: string, min = 0): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min) {
    throw new UsageError(`${flag} must be a whole number${min > 0 ? ` from ${min}` : ''}, not '${value}'`);
  }
  return n;
}

export function parseChoice<T extends string>(value: string, choices: readonly T[], flag: string): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new UsageError(`${flag} must be one of ${choices.join(', ')}, not '${value}'`);
}
