// herd serve [APP] — flags to a ServeConfig, then the supervisor's loop.
import os from 'node:os';
import path from 'node:path';
import {
  DEFAULTS, defaultControlPath, defaultDispatch, DISPATCH_MODES, ENGINES, HANDOFF_POLICIES,
  parseChoice, parseCount, parsePort, parseSeconds, parseWorkers, type ServeConfig,
} from '../config.ts';
import { UsageError } from '../errors.ts';
import { Supervisor } from '../supervisor/supervisor.ts';
import { resolveAppPath } from '../worker/app_loader.ts';
import { parseCommandLine } from './arguments.ts';

const HELP = `usage: herd serve [APP] [options]

APP is a module whose default export is a request listener: (req, res) => ..., an Express app,
or koa.callback(). Without APP, a built-in 'Hello, World!' app.

  --port N                 port to listen on (default ${DEFAULTS.port}; 0 picks a free one)
  --host ADDR              address to listen on (default ${DEFAULTS.host})
  --workers N|auto         worker processes (default auto: one per core, ${os.availableParallelism()} here)
  --dispatch MODE          reuseport | shared | handoff (default ${defaultDispatch()})
  --handoff rr|least       how handoff picks a worker (default rr)
  --engine fast|node       HTTP engine (default: fast for the built-in app, node for an APP)
  --grace SECONDS          time a draining worker gets before it is killed (default ${DEFAULTS.graceSeconds})
  --request-timeout SEC    a response not finished in time gets 503 (default ${DEFAULTS.requestTimeoutMs / 1000})
  --headers-timeout SEC    time for the request head to arrive (default ${DEFAULTS.headersTimeoutMs / 1000})
  --keep-alive-timeout SEC idle keep-alive connections close after this (default ${DEFAULTS.keepAliveTimeoutMs / 1000})
  --max-connections N      per-worker cap on open connections (default 0: none)
  --backlog N              listen backlog (default ${DEFAULTS.backlog})
  --control PATH           control socket for herd status|reload|stop (default ${defaultControlPath(DEFAULTS.port)})
  --pid-file PATH          write the supervisor's pid here

signals: TERM, INT, QUIT graceful stop; HUP rolling reload; USR1 reopen logs.`;

const OPTIONS = {
  port: { type: 'string' },
  host: { type: 'string' },
  workers: { type: 'string' },
  dispatch: { type: 'string' },
  handoff: { type: 'string' },
  engine: { type: 'string' },
  grace: { type: 'string' },
  'request-timeout': { type: 'string' },
  'headers-timeout': { type: 'string' },
  'keep-alive-timeout': { type: 'string' },
  'max-connections': { type: 'string' },
  backlog: { type: 'string' },
  control: { type: 'string' },
  'pid-file': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseServeArgs(argv: string[]): ServeConfig | 'help' {
  const { values: v, positionals } = parseCommandLine('serve', argv, OPTIONS);
  if (v.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`herd serve takes one APP, not ${positionals.length}: ${positionals.join(' ')}`);
  const app = positionals[0] === undefined ? null : resolveAppPath(positionals[0]);
  const port = v.port === undefined ? DEFAULTS.port : parsePort(v.port);
  const seconds = (value: string | undefined, flag: string, fallbackMs: number) =>
    value === undefined ? fallbackMs : parseSeconds(value, flag) * 1000;
  return {
    app,
    host: v.host ?? DEFAULTS.host,
    port,
    workers: parseWorkers(v.workers ?? 'auto'),
    dispatch: v.dispatch === undefined ? defaultDispatch() : parseChoice(v.dispatch, DISPATCH_MODES, '--dispatch'),
    handoff: v.handoff === undefined ? 'rr' : parseChoice(v.handoff, HANDOFF_POLICIES, '--handoff'),
    engine: v.engine === undefined ? (app === null ? 'fast' : 'node') : parseChoice(v.engine, ENGINES, '--engine'),
    graceSeconds: v.grace === undefined ? DEFAULTS.graceSeconds : parseSeconds(v.grace, '--grace'),
    requestTimeoutMs: seconds(v['request-timeout'], '--request-timeout', DEFAULTS.requestTimeoutMs),
    headersTimeoutMs: seconds(v['headers-timeout'], '--headers-timeout', DEFAULTS.headersTimeoutMs),
    keepAliveTimeoutMs: seconds(v['keep-alive-timeout'], '--keep-alive-timeout', DEFAULTS.keepAliveTimeoutMs),
    maxConnections: v['max-connections'] === undefined ? DEFAULTS.maxConnections : parseCount(v['max-connections'], '--max-connections'),
    bodyLimit: DEFAULTS.bodyLimit,
    backlog: v.backlog === undefined ? DEFAULTS.backlog : parseCount(v.backlog, '--backlog', 1),
    controlPath: path.resolve(v.control ?? defaultControlPath(port)),
    pidFile: v['pid-file'] === undefined ? null : path.resolve(v['pid-file']),
  };
}

export async function run(argv: string[]): Promise<number> {
  const config = parseServeArgs(argv);
  if (config === 'help') {
    console.log(HELP);
    return 0;
  }
  const supervisor = new Supervisor(config, {
    onReady: (url) => {
      const app = config.app === null ? 'built-in hello app' : path.relative(process.cwd(), config.app);
      console.log(`herd: serving ${app} on ${url} with ${config.workers} worker${config.workers === 1 ? '' : 's'} (dispatch ${config.dispatch}, engine ${config.engine}, pid ${process.pid})`);
    },
  });
  return supervisor.run();
}
