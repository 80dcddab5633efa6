// `herd bench [options] URL`: webbench's flags with webbench's meanings, plus wrk's measuring.
import fs from 'node:fs';
import { UsageError } from '../errors.ts';
import { resolveOptions, DEFAULT_DURATION_SEC, DEFAULT_TIMEOUT_SEC } from '../bench/options.ts';
import { runResolved } from '../bench/runner.ts';
import { humanHeader, humanSummary, progressLine, webbenchHeader, webbenchSummary } from '../bench/report.ts';
import type { BenchOptions } from '../bench/options.ts';

const VERSION = '0.1.0';

const USAGE = `herd bench [option]... URL
  -f|--force               Don't wait for reply from server.
  -r|--reload              Send reload request - Pragma: no-cache.
  -t|--time <sec>          Run benchmark for <sec> seconds. Default ${DEFAULT_DURATION_SEC}.
  -p|--proxy <server:port> Use proxy server for request.
  -c|--clients <n>         Run <n> HTTP clients at once. Default one.
  -9|--http09              Use HTTP/0.9 style requests.
  -1|--http10              Use HTTP/1.0 protocol (default).
  -2|--http11              Use HTTP/1.1 protocol.
  --get                    Use GET request method.
  --head                   Use HEAD request method.
  --options                Use OPTIONS request method.
  --trace                  Use TRACE request method.
  -k|--keep-alive          Reuse connections (default: a new connection per request, as webbench).
  --pipeline <n>           Send <n> requests per connection before reading replies (implies -k).
  --threads <n>            Spread the clients over <n> threads. Default 1.
  -n|--requests <n>        Make exactly <n> requests instead of running for a time.
  --rate <r>               Send <r> requests/s in all; latency counts from when each was due.
  -H|--header <h: v>       Add a request header (repeatable).
  -m|--method <name>       Use any request method.
  --body <text>            Send <text> as the request body.
  --body-file <path>       Send the file's bytes as the request body.
  --timeout <sec>          Fail a request with no reply after <sec> seconds. Default ${DEFAULT_TIMEOUT_SEC}.
  --warmup <sec>           Load for <sec> seconds before measuring.
  --format human|webbench|json
                           Summary layout; webbench's prints Speed= and Requests: lines.
  --json                   Same as --format json: print the result as JSON.
  -?|-h|--help             This information.
  -V|--version             Display program version.
`;

type Format = 'human' | 'webbench' | 'json';

interface ParsedArgs {
  options: BenchOptions;
  format: Format;
  help: boolean;
  version: boolean;
}

const VALUE_FLAGS: Record<string, string> = {
  '-c': 'clients', '--clients': 'clients',
  '-t': 'time', '--time': 'time',
  '-p': 'proxy', '--proxy': 'proxy',
  '-n': 'requests', '--requests': 'requests',
  '--pipeline': 'pipeline',
  '--threads': 'threads',
  '--rate': 'rate',
  '-H': 'header', '--header': 'header',
  '-m': 'method', '--method': 'method',
  '--body': 'body',
  '--body-file': 'body-file',
  '--timeout': 'timeout',
  '--warmup': 'warmup',
  '--format': 'format',
};

const SWITCHES: Record<string, string> = {
  '-f': 'force', '--force': 'force',
  '-r': 'reload', '--reload': 'reload',
  '-9': 'http09', '--http09': 'http09',
  '-1': 'http10', '--http10': 'http10',
  '-2': 'http11', '--http11': 'http11',
  '--get': 'get', '--head': 'head', '--options': 'options', '--trace': 'trace',
  '-k': 'keep-alive', '--keep-alive': 'keep-alive',
  '--json': 'json',
  '-h': 'help', '-?': 'help', '--help': 'help',
  '-V': 'version', '--version': 'version',
};

function wholeNumber(flag: string, value: string): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag} must be a whole number, not '${value}'`);
  return Number(value);
}

/** Seconds, as a plain number or with an ms/s/m suffix (wrk's spelling). */
function seconds(flag: string, value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(value);
  if (!match) throw new UsageError(`${flag} must be a number of seconds (e.g. 10, 1.5, 500ms), not '${value}'`);
  const n = Number(match[1]);
  return match[2] === 'ms' ? n / 1000 : match[2] === 'm' ? n * 60 : n;
}

function header(value: string): [string, string] {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new UsageError(`-H must look like 'Name: value', not '${value}'`);
  return [value.slice(0, colon).trim(), value.slice(colon + 1).trim()];
}

/** Splits `-c10`, `--clients=10` and grouped switches like `-fr` into flag/value pairs. */
function tokens(argv: string[]): Array<{ flag: string; value?: string } | { operand: string }> {
  const out: Array<{ flag: string; value?: string } | { operand: string }> = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--') {
      for (const rest of argv.slice(i + 1)) out.push({ operand: rest });
      break;
    }
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      const flag = eq > 0 ? arg.slice(0, eq) : arg;
      if (VALUE_FLAGS[flag]) {
        const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
        if (value === undefined) throw new UsageError(`${flag} needs a value`);
        out.push({ flag, value });
      } else if (SWITCHES[flag] && eq < 0) {
        out.push({ flag });
      } else {
        throw new UsageError(`unknown option '${arg}' (see herd bench --help)`);
      }
    } else if (arg.startsWith('-') && arg.length > 1) {
      for (let j = 1; j < arg.length; j++) {
        const flag = '-' + arg[j];
        if (VALUE_FLAGS[flag]) {
          const value = j + 1 < arg.length ? arg.slice(j + 1) : argv[++i];
          if (value === undefined) throw new UsageError(`${flag} needs a value`);
          out.push({ flag, value });
          break;
        }
        if (!SWITCHES[flag]) throw new UsageError(`unknown option '${flag}' (see herd bench --help)`);
        out.push({ flag });
      }
    } else {
      out.push({ operand: arg });
    }
  }
  return out;
}

export function parseBenchArgs(argv: string[]): ParsedArgs {
  const options: BenchOptions = { url: '' };
  const headers: Array<[string, string]> = [];
  let format: Format = 'human';
  let help = false;
  let version = false;
  const operands: string[] = [];
  for (const token of tokens(argv)) {
    if ('operand' in token) {
      operands.push(token.operand);
      continue;
    }
    const { flag } = token;
    const value = token.value ?? '';
    switch (VALUE_FLAGS[flag] ?? SWITCHES[flag]) {
      case 'clients': options.connections = wholeNumber(flag, value); break;
      case 'time': options.durationSec = seconds(flag, value); break;
      case 'proxy': options.proxy = value; break;
      case 'requests': options.requests = wholeNumber(flag, value); break;
      case 'pipeline': options.pipeline = wholeNumber(flag, value); break;
      case 'threads': options.threads = wholeNumber(flag, value); break;
      case 'rate': {
        const rate = Number(value);
        if (!/^\d+(\.\d+)?$/.test(value) || rate <= 0) throw new UsageError(`--rate must be a positive number of requests per second, not '${value}'`);
        options.rate = rate;
        break;
      }
      case 'header': headers.push(header(value)); break;
      case 'method': options.method = value; break;
      case 'body': options.body = value; break;
      case 'body-file':
        try {
          options.body = fs.readFileSync(value);
        } catch (err) {
          throw new UsageError(`cannot read --body-file ${value}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
        }
        break;
      case 'timeout': options.timeoutSec = seconds(flag, value); break;
      case 'warmup': options.warmupSec = seconds(flag, value); break;
      case 'format':
        if (value !== 'human' && value !== 'webbench' && value !== 'json') throw new UsageError(`--format must be human, webbench or json, not '${value}'`);
        format = value;
        break;
      case 'force': options.force = true; break;
      case 'reload': options.reload = true; break;
      case 'http09': options.http = '0.9'; break;
      case 'http10': options.http = '1.0'; break;
      case 'http11': options.http = '1.1'; break;
      case 'get': options.method = 'GET'; break;
      case 'head': options.method = 'HEAD'; break;
      case 'options': options.method = 'OPTIONS'; break;
      case 'trace': options.method = 'TRACE'; break;
      case 'keep-alive': options.keepAlive = true; break;
      case 'json': format = 'json'; break;
      case 'help': help = true; break;
      case 'version': version = true; break;
    }
  }
  if (!help && !version) {
    if (operands.length === 0) throw new UsageError('missing URL (herd bench [options] URL; see --help)');
    if (operands.length > 1) throw new UsageError(`one URL only, got ${operands.length}: ${operands.join(' ')}`);
    options.url = operands[0];
  }
  if (headers.length > 0) options.headers = headers;
  return { options, format, help, version };
}

export async function run(argv: string[]): Promise<number> {
  const args = parseBenchArgs(argv);
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`herd bench ${VERSION}\n`);
    return 0;
  }
  const resolved = await resolveOptions(args.options);
  if (args.format === 'webbench') process.stdout.write(webbenchHeader(resolved));
  if (args.format === 'human') process.stdout.write(humanHeader(resolved));
  // The progress line rewrites itself in place, so only on a terminal.
  const showProgress = args.format === 'human' && process.stdout.isTTY === true;
  const result = await runResolved(resolved, showProgress ? (p) => process.stdout.write(`\r\x1b[K${progressLine(p)}`) : undefined);
  if (showProgress) process.stdout.write('\r\x1b[K');
  if (args.format === 'json') process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  else if (args.format === 'webbench') process.stdout.write(webbenchSummary(result));
  else process.stdout.write(humanSummary(result));
  return result.requests.succeeded > 0 ? 0 : 1;
}
