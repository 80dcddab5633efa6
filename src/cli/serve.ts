// herd serve [APP] — flags to a ServeConfig, then the supervisor's loop.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  ACCESS_LOG_FORMATS, DEFAULTS, defaultControlPath, defaultDispatch, DISPATCH_MODES, ENGINES, HANDOFF_POLICIES,
  parseChoice, parseCount, parseHealthPath, parseListenAddress, parsePort, parseTimeoutSeconds, parseWorkers, type ServeConfig, type StaticConfig,
} from '../config.ts';
import { UsageError } from '../errors.ts';
import { inheritedListenFd, REUSEPORT_CANNOT_ACTIVATE } from '../systemd/socket_activation.ts';
import { Supervisor } from '../supervisor/supervisor.ts';
import { InheritedSockets, UPGRADE_SOCKETS_VARIABLE } from '../supervisor/inherited_sockets.ts';
import { Predecessor } from '../supervisor/predecessor.ts';
import { resolveAppPath } from '../worker/app_loader.ts';
import { renameSource, resolveOptions, type OptionOrigin, type OptionSources } from '../config/option_sources.ts';
import { readTlsCredentials, tlsConfigFromFlags } from '../transport/tls_credentials.ts';
import { checkTransportFlags } from '../transport/transport_flags.ts';
import { parseTrustProxy } from '../transport/trusted_proxies.ts';

const HELP = `usage: herd serve [APP] [options]

APP is a module that starts its own server (app.listen(process.env.PORT), fastify.listen(...),
http.createServer(app).listen(...)), or whose default export is a request listener: (req, res) => ...,
an Express app, or koa.callback(). Without APP, a built-in 'Hello, World!' app.

  --port N                 port to listen on (default $PORT, else ${DEFAULTS.port}; 0 picks a free one); workers get PORT
  --host ADDR              address to listen on (default ${DEFAULTS.host})
  --workers N|auto         worker processes (default auto: one per core, ${os.availableParallelism()} here)
  --dispatch MODE          reuseport | shared | handoff (default ${defaultDispatch()})
  --handoff rr|least|sticky  how handoff picks a worker (default rr; sticky: by client address)
  --engine fast|node       HTTP engine (default: fast for the built-in app, node for an APP)
  --grace SECONDS          time a draining worker gets before it is killed (default ${DEFAULTS.graceSeconds})
  --start-timeout SEC      a worker not ready this long after its start is killed (default ${DEFAULTS.startTimeoutMs / 1000}; 0: no limit)
  --max-memory MB          a worker whose RSS grows above MB is replaced: a new one starts, the old one drains (default: no limit)
  --unresponsive-timeout SEC  a worker that stops answering its heartbeat is replaced after this long (default ${DEFAULTS.unresponsiveTimeoutMs / 1000}; 0: never)
  --request-timeout SEC    a response whose head is not sent in time gets 503 (default ${DEFAULTS.requestTimeoutMs / 1000}; 0: off)
  --idle-timeout SEC       a response that moves no bytes for SEC is cut (default ${DEFAULTS.idleTimeoutMs / 1000}; 0: off)
  --body-timeout SEC       a request body with no bytes for SEC gets 408 (default ${DEFAULTS.bodyTimeoutMs / 1000}; 0: off)
  --body-limit BYTES       larger request bodies get 413 (default ${DEFAULTS.bodyLimit} on the fast engine, none on node)
  --headers-timeout SEC    time for the request head to arrive (default ${DEFAULTS.headersTimeoutMs / 1000})
  --keep-alive-timeout SEC idle keep-alive connections close after this (default ${DEFAULTS.keepAliveTimeoutMs / 1000})
  --max-connections N      per-worker cap on open connections (default 0: none)
  --backlog N              listen backlog (default ${DEFAULTS.backlog})
  --control PATH           control socket for herd status|reload|stop (default ${defaultControlPath(DEFAULTS.port)})
  --pid-file PATH          write the supervisor's pid here
  --access-log PATH|-|off  access log, written by the log daemon (default off; - is stdout)
  --access-log-format F    combined (nginx/Apache), combined_id (combined, then the request id) or json (default combined)
  --error-log PATH|-       supervisor events: worker started/exited/respawned, reloads (default -: stderr)
  --log-buffer BYTES       per-worker buffer for access records logd has not taken yet (default ${DEFAULTS.logBufferBytes})
  --static DIR             serve the files in DIR, before the app (or alone)
  --static-prefix PATH     mount DIR at PATH (e.g. /assets, as express.static does); the rest goes to the app
  --autoindex              list directories without an index.html
  --follow-symlinks        serve symlinks that lead outside DIR
  --cache-control VALUE    Cache-Control header for files (default none)
  --request-id             keep a valid X-Request-Id or make one: in the response, req.headers, the access log
  --metrics HOST:PORT      serve Prometheus metrics at http://HOST:PORT/metrics from the supervisor (PORT alone: 127.0.0.1)
  --health HOST:PORT       the supervisor answers /livez and /readyz there (PORT alone: 127.0.0.1)
  --health-path PATH       workers answer PATH on the main port with readiness (200, or 503 once a stop began)
  --shutdown-delay SEC     on TERM, readiness turns 503 at once and herd serves SEC more seconds (responses
                           carry Connection: close) before it drains: time for a balancer to stop routing here
  --watch[=PATHS]          development: reload the workers when a file changes under PATHS (comma-separated;
                           bare --watch: the working directory), debounced; node_modules and dotfiles ignored
  --config FILE            serve options from FILE (.json, or .js exporting an object; keys are the flag names);
                           without it herd.config.json or herd.config.js in the working directory, if there
  --tls-cert FILE          serve HTTPS with this certificate (PEM; re-read by each new worker, so HUP swaps it)
  --tls-key FILE           the certificate's private key (PEM, unencrypted)
  --tls-ca FILE            intermediate certificates sent after the certificate (PEM)
  --tls-min-version V      TLSv1.2 or TLSv1.3 (default TLSv1.2)
  --no-tls-tickets         issue no session tickets: no resumption, every new connection a full handshake
                           (nginx's ssl_session_tickets off; tickets are on by default, each worker its own keys)
  --http2                  offer HTTP/2 by ALPN beside HTTP/1.1 (needs TLS and --engine node)
  --redirect-http PORT     a cleartext listener on PORT answering 308 to the https URL (needs TLS)
  --proxy-protocol         every connection starts with a PROXY v1/v2 header (HAProxy, an L4 balancer); its client address is used
  --trust-proxy CIDR,...   X-Forwarded-For from these addresses is the logged client address (nginx's real_ip)

Every option can also be set in the environment: HERD_ and its name (HERD_ACCESS_LOG=-, HERD_REQUEST_ID=1),
PORT, HOST and WEB_CONCURRENCY for --port, --host and --workers. Flags win over the environment, which wins
over the file. herd config [options] prints the effective configuration and where each value came from.

signals: TERM, INT, QUIT graceful stop; HUP rolling reload; USR1 reopen logs; USR2 upgrade (herd upgrade).`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  workers: { type: 'string' },
  dispatch: { type: 'string' },
  handoff: { type: 'string' },
  engine: { type: 'string' },
  grace: { type: 'string' },
  'start-timeout': { type: 'string' },
  'unresponsive-timeout': { type: 'string' },
  'max-memory': { type: 'string' },
  'request-timeout': { type: 'string' },
  'idle-timeout': { type: 'string' },
  'body-timeout': { type: 'string' },
  'body-limit': { type: 'string' },
  'headers-timeout': { type: 'string' },
  'keep-alive-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  backlog: { type: 'string' },
  control: { type: 'string' },
  'pid-file': { type: 'string' },
  'access-log': { type: 'string' },
  'access-log-format': { type: 'string' },
  'error-log': { type: 'string' },
  'log-buffer': { type: 'string' },
  static: { type: 'string' },
  'static-prefix': { type: 'string' },
  autoindex: { type: 'boolean' },
  'follow-symlinks': { type: 'boolean' },
  'cache-control': { type: 'string' },
  metrics: { type: 'string' },
  'request-id': { type: 'boolean' },
  config: { type: 'string' },
  health: { type: 'string' },
  'health-path': { type: 'string' },
  'shutdown-delay': { type: 'string' },
  watch: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  'tls-min-version': { type: 'string' },
  'no-tls-tickets': { type: 'boolean' },
  http2: { type: 'boolean' },
  'redirect-http': { type: 'string' },
  'proxy-protocol': { type: 'boolean' },
  'trust-proxy': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Every serve option by its flag name (the keys of a config file; HERD_ and the name in the environment). */
export const SERVE_OPTIONS = OPTIONS;

export function parseServeArgs(argv: string[], sources: OptionSources = {}): ServeConfig | 'help' {
  return explainServeArgs(argv, sources).config;
}

/** The configuration and where each option came from (flags > environment > file > defaults). */
export function explainServeArgs(argv: string[], sources: OptionSources = {}): { config: ServeConfig | 'help'; origins: Map<string, OptionOrigin>; file: string | null } {
  const resolved = resolveOptions('serve', argv, OPTIONS, sources, { watch: '.' });
  try {
    return { config: serveConfigFrom(resolved), origins: resolved.origins, file: resolved.file };
  } catch (err) {
    throw renameSource(err, resolved.origins);
  }
}

function serveConfigFrom({ values: v, positionals, env }: ReturnType<typeof resolveOptions<typeof OPTIONS>>): ServeConfig | 'help' {
  if (v.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`herd serve takes one APP, not ${positionals.length}: ${positionals.join(' ')}`);
  const app = positionals[0] === undefined ? null : resolveAppPath(positionals[0]);
  const port = v.port === undefined ? DEFAULTS.port : parsePort(v.port); // PORT from the environment is v.port
  const seconds = (value: string | undefined, flag: string, fallbackMs: number) =>
    value === undefined ? fallbackMs : parseTimeoutSeconds(value, flag);
  // systemd socket activation; or systemd's socket passed on by the herd an upgrade replaces.
  const listenFd = inheritedListenFd(env) ?? InheritedSockets.fromVariable(process.env[UPGRADE_SOCKETS_VARIABLE]).activatedFd();
  const engine = v.engine === undefined ? (app === null ? 'fast' : 'node') : parseChoice(v.engine, ENGINES, '--engine');
  const config: ServeConfig = {
    app,
    host: v.host ?? DEFAULTS.host,
    port,
    workers: parseWorkers(v.workers ?? 'auto'),
    dispatch: v.dispatch === undefined ? (listenFd === null ? defaultDispatch() : 'shared') : parseChoice(v.dispatch, DISPATCH_MODES, '--dispatch'),
    handoff: v.handoff === undefined ? 'rr' : parseChoice(v.handoff, HANDOFF_POLICIES, '--handoff'),
    engine,
    graceSeconds: v.grace === undefined ? DEFAULTS.graceSeconds : parseTimeoutSeconds(v.grace, '--grace') / 1000,
    startTimeoutMs: seconds(v['start-timeout'], '--start-timeout', DEFAULTS.startTimeoutMs),
    unresponsiveTimeoutMs: seconds(v['unresponsive-timeout'], '--unresponsive-timeout', DEFAULTS.unresponsiveTimeoutMs),
    maxMemoryBytes: v['max-memory'] === undefined ? DEFAULTS.maxMemoryBytes : parseCount(v['max-memory'], '--max-memory') * 1024 * 1024,
    requestTimeoutMs: seconds(v['request-timeout'], '--request-timeout', DEFAULTS.requestTimeoutMs),
    headersTimeoutMs: seconds(v['headers-timeout'], '--headers-timeout', DEFAULTS.headersTimeoutMs),
    keepAliveTimeoutMs: seconds(v['keep-alive-timeout'], '--keep-alive-timeout', DEFAULTS.keepAliveTimeoutMs),
    maxConnections: v['max-connections'] === undefined ? DEFAULTS.maxConnections : parseCount(v['max-connections'], '--max-connections'),
    bodyLimit: v['body-limit'] === undefined ? (engine === 'fast' ? DEFAULTS.bodyLimit : 0) : parseCount(v['body-limit'], '--body-limit', 1),
    bodyTimeoutMs: seconds(v['body-timeout'], '--body-timeout', DEFAULTS.bodyTimeoutMs),
    idleTimeoutMs: seconds(v['idle-timeout'], '--idle-timeout', DEFAULTS.idleTimeoutMs),
    backlog: v.backlog === undefined ? DEFAULTS.backlog : parseCount(v.backlog, '--backlog', 1),
    controlPath: path.resolve(v.control ?? defaultControlPath(port)),
    pidFile: v['pid-file'] === undefined ? null : path.resolve(v['pid-file']),
    accessLog: v['access-log'] === undefined || v['access-log'] === 'off' ? null : logPath(v['access-log']),
    accessLogFormat: v['access-log-format'] === undefined ? 'combined' : parseChoice(v['access-log-format'], ACCESS_LOG_FORMATS, '--access-log-format'),
    errorLog: v['error-log'] === undefined ? '-' : logPath(v['error-log']),
    logBufferBytes: v['log-buffer'] === undefined ? DEFAULTS.logBufferBytes : parseCount(v['log-buffer'], '--log-buffer', 1024),
    static: staticConfig(v),
    metrics: v.metrics === undefined ? null : parseListenAddress(v.metrics, '--metrics'),
    requestId: v['request-id'] ?? false,
    health: v.health === undefined ? null : parseListenAddress(v.health, '--health'),
    healthPath: v['health-path'] === undefined ? null : parseHealthPath(v['health-path']),
    shutdownDelayMs: seconds(v['shutdown-delay'], '--shutdown-delay', 0),
    listenFd: listenFd !== null && v.dispatch === 'reuseport' ? refuseActivatedReuseport() : listenFd,
    watch: v.watch === undefined ? null : watchPaths(v.watch),
    tls: tlsConfigFromFlags(v),
    http2: v.http2 ?? false,
    redirectHttp: v['redirect-http'] === undefined ? null : parsePort(v['redirect-http'], '--redirect-http'),
    proxyProtocol: v['proxy-protocol'] ?? false,
    trustProxy: v['trust-proxy'] === undefined ? [] : parseTrustProxy(v['trust-proxy']),
  };
  checkTransportFlags(config);
  return config;
}

/** --watch PATHS: comma-separated files or directories, each of which must exist. */
function watchPaths(value: string): string[] {
  const paths = value.split(',').filter((p) => p !== '').map((p) => path.resolve(p));
  if (paths.length === 0) throw new UsageError(`--watch needs a path, not '${value}'`);
  const missing = paths.find((p) => !fs.existsSync(p));
  if (missing) throw new UsageError(`--watch ${missing}: no such file or directory`);
  return paths;
}

function refuseActivatedReuseport(): never {
  throw new UsageError(REUSEPORT_CANNOT_ACTIVATE);
}

function logPath(value: string): string {
  return value === '-' ? '-' : path.resolve(value);
}

function staticConfig(v: { static?: string; 'static-prefix'?: string; autoindex?: boolean; 'follow-symlinks'?: boolean; 'cache-control'?: string }): StaticConfig | null {
  if (v.static === undefined) {
    const stray = (['static-prefix', 'autoindex', 'follow-symlinks', 'cache-control'] as const).find((f) => v[f] !== undefined);
    if (stray) throw new UsageError(`--${stray} needs --static DIR`);
    return null;
  }
  const root = path.resolve(v.static);
  if (!fs.existsSync(root) || !fs.statSync(root).isDirectory()) throw new UsageError(`--static ${v.static} is not a directory`);
  const prefix = v['static-prefix'];
  if (prefix !== undefined && !prefix.startsWith('/')) throw new UsageError(`--static-prefix must start with /, not '${prefix}'`);
  return {
    root,
    prefix: prefix === undefined || prefix === '/' ? null : prefix.replace(/\/+$/, ''),
    autoindex: v.autoindex ?? false,
    followSymlinks: v['follow-symlinks'] ?? false,
    cacheControl: v['cache-control'] ?? null,
  };
}

export async function run(argv: string[]): Promise<number> {
  let config: ServeConfig | 'help';
  try {
    config = parseServeArgs(argv);
    // A certificate that cannot serve is one line and exit 1 now, not a worker that dies at start.
    if (config !== 'help' && config.tls) readTlsCredentials(config.tls);
  } catch (err) {
    // Started by `herd upgrade` with a configuration that no longer parses: the running herd says why.
    if (err instanceof Error) Predecessor.tellFailure(err.message);
    throw err;
  }
  if (config === 'help') {
    console.log(HELP);
    return 0;
  }
  const supervisor = new Supervisor(config, {
    onReady: (url) => {
      const files = config.static ? `files of ${shortPath(config.static.root)}${config.static.prefix ? ` under ${config.static.prefix}` : ''}` : null;
      const named = config.app === null ? (files ? null : 'built-in hello app') : shortPath(config.app);
      const app = [files, named].filter(Boolean).join(' and ');
      console.log(`herd: serving ${app} on ${url} with ${config.workers} worker${config.workers === 1 ? '' : 's'} (dispatch ${config.dispatch}, engine ${config.engine}, pid ${process.pid})`);
    },
  });
  return supervisor.run();
}

/** Relative to the working directory when inside it, else absolute. */
function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative === '' ? '.' : relative.startsWith('..') ? file : relative;
}
