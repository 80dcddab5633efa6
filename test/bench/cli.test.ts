// `herd bench` as a user runs it: output formats, exit codes, one-line errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseBenchArgs } from '../../src/cli/bench.ts';
import { resolveOptions } from '../../src/bench/options.ts';
import { UsageError } from '../../src/errors.ts';
import { closedPort, countingServer } from './servers.ts';

const HERD = fileURLToPath(new URL('../../src/cli/herd.ts', import.meta.url));

interface Ran {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `herd bench ...args` (async, so the test's own servers keep answering). */
function bench(...args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HERD, 'bench', ...args], { timeout: 20_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

test('--format webbench prints webbench\'s summary lines, which parse back', async (t) => {
  const server = await countingServer(t);
  const ran = await bench('-c', '2', '-n', '20', '--format', 'webbench', server.url);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /\nBenchmarking: GET http:\/\/127\.0\.0\.1:\d+\/\n2 clients, running 20 requests\.\n/);
  const speed = /^Speed=(\d+) pages\/min, (\d+) bytes\/sec\.$/m.exec(ran.stdout);
  const requests = /^Requests: (\d+) susceed, (\d+) failed\.$/m.exec(ran.stdout);
  assert.ok(speed && requests, ran.stdout);
  assert.equal(Number(requests[1]), 20);
  assert.equal(Number(requests[2]), 0);
  assert.equal(server.served(), 20);
  assert.ok(Number(speed[1]) > 0 && Number(speed[2]) > 0);
});

test('human output: throughput, latency percentiles, status codes, no progress line off a terminal', async (t) => {
  const server = await countingServer(t, (n) => (n < 5 ? 500 : 200));
  const ran = await bench('-k', '-c', '2', '-n', '15', server.url);
  assert.equal(ran.code, 0, ran.stderr);
  assert.match(ran.stdout, /Requests +15 succeeded, 0 failed/);
  assert.match(ran.stdout, /requests\/s, \d+ pages\/min/);
  assert.match(ran.stdout, /Latency +p50 [\d.]+ ms, p90 [\d.]+ ms, p99 [\d.]+ ms, p99\.9 [\d.]+ ms, max [\d.]+ ms/);
  assert.match(ran.stdout, /Status +200: 10, 500: 5/);
  assert.doesNotMatch(ran.stdout, /\r/);
});

test('--json prints a BenchResult', async (t) => {
  const server = await countingServer(t);
  const ran = await bench('--json', '-n', '7', '--threads', '1', server.url);
  assert.equal(ran.code, 0, ran.stderr);
  const result = JSON.parse(ran.stdout);
  assert.deepEqual(result.requests, { succeeded: 7, failed: 0 });
  assert.deepEqual(Object.keys(result.errors).sort(), ['bad_response', 'other', 'refused', 'reset', 'timeout']);
  for (const key of ['url', 'connections', 'threads', 'keepAlive', 'pipeline', 'durationSec', 'rps', 'pagesPerMin', 'bytesPerSec', 'bytesTotal', 'latencyMs', 'statusCodes']) {
    assert.ok(key in result, key);
  }
});

test('a run where every request failed exits non-zero', async () => {
  const port = await closedPort();
  const ran = await bench('-n', '3', '--json', `http://127.0.0.1:${port}/`);
  assert.equal(ran.code, 1);
  assert.equal(JSON.parse(ran.stdout).errors.refused, 3);
});

test('bad input from the command line: one line naming the problem, exit 2', async () => {
  for (const [args, message] of [[['-x', 'http://127.0.0.1/'], /unknown option '-x'/], [['http://no-such-host.invalid/'], /does not resolve/]] as const) {
    const ran = await bench(...args);
    assert.equal(ran.code, 2, `${args.join(' ')}: ${ran.stderr}`);
    assert.match(ran.stderr, /^herd: [^\n]+\n$/);
    assert.match(ran.stderr, message);
  }
});

test('each bad input is a one-line UsageError', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['not a url'], /not a valid URL/],
    [['ftp://127.0.0.1/'], /unsupported scheme 'ftp'/],
    [['-c', 'many', 'http://127.0.0.1/'], /-c must be a whole number/],
    [['-t', 'soon', 'http://127.0.0.1/'], /-t must be a number of seconds/],
    [[], /missing URL/],
    [['-f', '-k', 'http://127.0.0.1/'], /--force/],
    [['-9', '-k', 'http://127.0.0.1/'], /HTTP\/0\.9 has no keep-alive/],
    [['--threads', '3', '-c', '2', 'http://127.0.0.1/'], /--threads \(3\) cannot exceed/],
    [['-n', '5', '-t', '5', 'http://127.0.0.1/'], /either --requests or --time/],
    [['--rate', '10', '--pipeline', '2', 'http://127.0.0.1/'], /--rate/],
    [['-H', 'nocolon', 'http://127.0.0.1/'], /Name: value/],
    [['-p', 'noport', 'http://127.0.0.1/'], /--proxy must be host:port/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(async () => resolveOptions(parseBenchArgs(args).options), (err: unknown) => {
      assert.ok(err instanceof UsageError, `${args.join(' ')}: ${err}`);
      assert.equal(err.exitCode, 2);
      assert.doesNotMatch(err.message, /\n/);
      assert.match(err.message, message);
      return true;
    });
  }
});

test('flags parse the way webbench and getopt spell them', () => {
  const a = parseBenchArgs(['-c10', '-t', '5', '-fr', '--proxy=p:3128', '-2', '--head', 'http://x/']);
  assert.deepEqual(a.options, { url: 'http://x/', connections: 10, durationSec: 5, force: true, reload: true, proxy: 'p:3128', http: '1.1', method: 'HEAD' });
  const b = parseBenchArgs(['-k', '--pipeline', '8', '-H', 'A: b', '-H', 'C:d', '--timeout', '500ms', '--warmup', '1', '--rate', '99.5', '-n', '1000', 'http://x/']);
  assert.deepEqual(b.options.headers, [['A', 'b'], ['C', 'd']]);
  assert.equal(b.options.timeoutSec, 0.5);
  assert.equal(b.options.rate, 99.5);
  assert.equal(b.options.requests, 1000);
  assert.equal(parseBenchArgs(['-V']).version, true);
  assert.equal(parseBenchArgs(['-?']).help, true);
});
