// `herd bench [options] URL`: webbench's flags with webbench's meanings, plus wrk's measuring.
import fs from 'node:fs';
import { UsageError } from '../errors.ts';
import { resolveOptions, DEFAULT_DURATION_SEC, DEFAULT_TIMEOUT_SEC } from '../bench/options.ts';
import { runResolved } from '../bench/runner.ts';
import { humanHeader, humanSummary, progressLine, webbenchHeader, webbenchSummary } from '../bench/report.ts';
import { runComparison } from '../bench/comparison.ts';
import { comparisonHeader, comparisonSummary, serverText, sliceLine } from '../bench/comparison_report.ts';
import { checkServerPids, withServerUsage } from '../bench/server_usage.ts';
import type { BenchOptions } from '../bench/options.ts';
import type { ComparisonPlan } from '../bench/comparison.ts';

const VERSION = '0.1.0';
const DEFAULT_SLICES = 6;
const DEFAULT_SLICE_SECONDS = 3;
const DEFAULT_VS_WARMUP_SEC = 1;

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
  --insecure               https://: accept any certificate (self-signed).
  --no-tls-resume          https://: a full TLS handshake on every connection (default: resume
                           the last session, as browsers do).
  --http2                  HTTP/2: over TLS by ALPN for https://, prior knowledge for http://.
  --streams <n>            HTTP/2 requests in flight per connection. Default 1.
  --server-pid <pid>       Read the CPU time (utime+stime) of <pid> and all its descendants from
                           /proc around the run: server CPU µs per request, and RSS at the end.
                           Repeatable or comma-separated; with --vs, A=<pid>,B=<pid>.
  -?|-h|--help             This information.
  -V|--version             Display program version.
A/B comparison (two targets loaded in turn, same options):
  --vs <URL2>              Compare URL2 (B) against URL (A): slices A B B A A B …, per-target
                           medians, B/A with the rounds' min–max and a bootstrap 95 % interval.
  --slices <n>             Slices of each target. Default ${DEFAULT_SLICES}.
  --slice-seconds <sec>    Length of a slice (or -n requests per slice). Default ${DEFAULT_SLICE_SECONDS}.
                           --warmup defaults to ${DEFAULT_VS_WARMUP_SEC} s of each target before the first slice.
`;

type Format = 'human' | 'webbench' | 'json';

/** --server-pid values: pids for the one target (or both), and with --vs for A or B alone. */
export interface ServerPids {
  both: number[];
  a: number[];
  b: number[];
}

export interface Comparing {
  url: string;
  slices: number;
  sliceSeconds: number;
}

interface ParsedArgs {
  options: BenchOptions;
  format: Format;
  /** --vs: B's URL and the slicing; null for a single run. */
  vs: Comparing | null;
  serverPids: ServerPids;
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
  '--vs': 'vs',
  '--slices': 'slices',
  '--slice-seconds': 'slice-seconds',
  '--server-pid': 'server-pid',
  '--streams': 'streams',
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
  '--insecure': 'insecure',
  '--no-tls-resume': 'no-tls-resume',
  '--http2': 'http2',
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

/** `1234`, `1234,5678` or `A=1234,B=5678`, added to `into`. */
function serverPids(value: string, into: ServerPids): void {
  for (const item of value.split(',')) {
    const match = /^(?:([AaBb])=)?(\d+)$/.exec(item.trim());
    if (!match || Number(match[2]) < 1) throw new UsageError(`--server-pid takes PID, PID,PID or A=PID,B=PID, not '${value}'`);
    const pid = Number(match[2]);
    const label = match[1]?.toUpperCase();
    (label === 'A' ? into.a : label === 'B' ? into.b : into.both).push(pid);
  }
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
  let vsUrl: string | null = null;
  let slices: number | null = null;
  let sliceSeconds: number | null = null;
  const pids: ServerPids = { both: [], a: [], b: [] };
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
      case 'vs': vsUrl = value; break;
      case 'slices':
        slices = wholeNumber(flag, value);
        if (slices < 1 || slices > 10_000) throw new UsageError(`--slices must be from 1 to 10000, not ${slices}`);
        break;
      case 'slice-seconds':
        sliceSeconds = seconds(flag, value);
        if (sliceSeconds <= 0) throw new UsageError('--slice-seconds must be more than 0');
        break;
      case 'server-pid': serverPids(value, pids); break;
      case 'streams': options.streams = wholeNumber(flag, value); break;
      case 'insecure': options.insecure = true; break;
      case 'no-tls-resume': options.tlsResume = false; break;
      case 'http2': options.http2 = true; break;
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
  let vs: Comparing | null = null;
  if (vsUrl !== null) {
    if (options.durationSec !== undefined) throw new UsageError('with --vs, a slice lasts --slice-seconds (or -n requests), not -t');
    if (format === 'webbench') throw new UsageError('--format webbench prints one run; --vs compares two (use human or json)');
    if (options.requests !== undefined && sliceSeconds !== null) throw new UsageError('give either -n (requests per slice) or --slice-seconds, not both');
    vs = { url: vsUrl, slices: slices ?? DEFAULT_SLICES, sliceSeconds: sliceSeconds ?? DEFAULT_SLICE_SECONDS };
  } else {
    if (slices !== null || sliceSeconds !== null) throw new UsageError('--slices and --slice-seconds need --vs URL2');
    if (pids.a.length > 0 || pids.b.length > 0) throw new UsageError('--server-pid A=…,B=… needs --vs URL2; for one target give --server-pid PID');
  }
  return { options, format, vs, serverPids: pids, help, version };
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
  const { both, a, b } = args.serverPids;
  checkServerPids([...both, ...a, ...b]);
  if (args.vs) return compare(args, args.vs);
  const resolved = await resolveOptions(args.options);
  if (args.format === 'webbench') process.stdout.write(webbenchHeader(resolved));
  if (args.format === 'human') process.stdout.write(humanHeader(resolved));
  // The progress line rewrites itself in place, so only on a terminal.
  const showProgress = args.format === 'human' && process.stdout.isTTY === true;
  const load = () => runResolved(resolved, showProgress ? (p) => process.stdout.write(`\r\x1b[K${progressLine(p)}`) : undefined);
  const { result, server } = both.length > 0
    ? await withServerUsage(both, load, (r) => r.requests.succeeded)
    : { result: await load(), server: null };
  if (showProgress) process.stdout.write('\r\x1b[K');
  if (args.format === 'json') process.stdout.write(JSON.stringify(server ? { ...result, server } : result, null, 2) + '\n');
  else if (args.format === 'webbench') process.stdout.write(webbenchSummary(result));
  else process.stdout.write(humanSummary(result) + (server ? `  Server      ${serverText(server)}\n` : ''));
  return result.requests.succeeded > 0 ? 0 : 1;
}

async function compare(args: ParsedArgs, vs: Comparing): Promise<number> {
  const perSlice = (url: string): BenchOptions => ({
    ...args.options,
    url,
    durationSec: args.options.requests === undefined ? vs.sliceSeconds : undefined,
    warmupSec: undefined,
  });
  const { both, a, b } = args.serverPids;
  const plan: ComparisonPlan = {
    a: { run: await resolveOptions(perSlice(args.options.url)), serverPids: [...both, ...a] },
    b: { run: await resolveOptions(perSlice(vs.url)), serverPids: [...both, ...b] },
    slices: vs.slices,
    warmupSec: args.options.warmupSec ?? DEFAULT_VS_WARMUP_SEC,
  };
  if ((plan.a.serverPids.length > 0) !== (plan.b.serverPids.length > 0)) {
    throw new UsageError('--server-pid with --vs needs a pid for both targets: A=PID,B=PID (or one PID serving both)');
  }
  const human = args.format === 'human';
  if (human) process.stdout.write(comparisonHeader(plan));
  let index = 0;
  const result = await runComparison(plan, human ? (slice) => process.stdout.write(sliceLine(slice, index++)) : undefined);
  if (human) process.stdout.write(comparisonSummary(result));
  else process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  const served = (label: 'A' | 'B'): boolean => result.slices.some((s) => s.target === label && s.result.requests.succeeded > 0);
  return served('A') && served('B') ? 0 : 1;
}
