// `herd bench --vs` against two real servers whose CPU per request differs several times over (one
// hashes 300 times per request): the costlier one is found, judged on server CPU from /proc. No
// timing is asserted; slices are short (0.3 s) to keep the test to seconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { parseBenchArgs } from '../../src/cli/bench.ts';
import { UsageError } from '../../src/errors.ts';
import { countingServer } from './servers.ts';

const HERD = fileURLToPath(new URL('../../src/cli/herd.ts', import.meta.url));
const COSTLY_SERVER = fileURLToPath(new URL('./fixtures/costly_server.ts', import.meta.url));
const hasProc = fs.existsSync('/proc/self/stat');

/** Starts costly_server.ts in its own process group (killed when the test ends); resolves its pid and URL. */
function startServer(t: TestContext, hashRounds: number): Promise<{ pid: number; url: string }> {
  const child = spawn(process.execPath, [COSTLY_SERVER, String(hashRounds)], { detached: true, stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /port (\d+)/.exec(out);
      if (m) resolve({ pid: child.pid!, url: `http://127.0.0.1:${m[1]}/` });
    });
    child.once('exit', (code) => reject(new Error(`server exited (${code}) before listening`)));
  });
}

function bench(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [HERD, 'bench', ...args], { timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

test('--vs --json: the server doing extra work per request costs more, judged on server CPU; every slice is there', { skip: hasProc ? false : 'needs /proc (Linux)', timeout: 90_000 }, async (t) => {
  const [cheap, costly] = await Promise.all([startServer(t, 0), startServer(t, 300)]);
  const ran = await bench('--json', '-k', '-c', '2', '--slices', '3', '--slice-seconds', '0.3', '--warmup', '0.3',
    '--server-pid', `A=${cheap.pid},B=${costly.pid}`, '--vs', costly.url, cheap.url);
  assert.equal(ran.code, 0, ran.stderr);
  const result = JSON.parse(ran.stdout);
  assert.equal(result.a.url, cheap.url);
  assert.equal(result.b.url, costly.url);
  assert.deepEqual(result.slices.map((s: { target: string }) => s.target), ['A', 'B', 'B', 'A', 'A', 'B']);
  assert.deepEqual(result.slices.map((s: { round: number }) => s.round), [0, 0, 1, 1, 2, 2]);
  for (const slice of result.slices) {
    assert.ok(slice.result.requests.succeeded > 0, JSON.stringify(slice.result.requests));
    assert.equal(slice.result.requests.failed, 0);
    assert.deepEqual(slice.server.pids, [slice.target === 'A' ? cheap.pid : costly.pid]);
    assert.ok(slice.server.cpuMicros > 0 && slice.server.rssBytes > 0, JSON.stringify(slice.server));
  }
  const cpu = result.figures.serverCpuMicrosPerRequest;
  assert.equal(result.judgedOn, 'serverCpuMicrosPerRequest');
  assert.equal(cpu.rounds, 3);
  assert.ok(cpu.b > cpu.a, `B ${cpu.b} µs/request should exceed A ${cpu.a}`);
  assert.ok(cpu.ratio > 1.5 && cpu.low > 1, JSON.stringify(cpu));
  assert.match(result.verdict, /^B costs \d+\.\d\dx A per request \(server CPU\), 95 % interval \d+\.\d\d–\d+\.\d\d/);
});

test('--vs human output, the costly server as A: B is the cheaper one, with the table and the verdict', { skip: hasProc ? false : 'needs /proc (Linux)', timeout: 90_000 }, async (t) => {
  const [cheap, costly] = await Promise.all([startServer(t, 0), startServer(t, 300)]);
  const ran = await bench('-k', '-c', '2', '--slices', '2', '--slice-seconds', '0.3', '--warmup', '0.3',
    '--server-pid', `B=${cheap.pid}`, '--server-pid', `A=${costly.pid}`, '--vs', cheap.url, costly.url);
  assert.equal(ran.code, 0, ran.stderr);
  assert.equal(ran.stdout.match(/^ {2}slice +\d+ [AB] /gm)?.length, 4, ran.stdout);
  assert.match(ran.stdout, /^ {2}server CPU µs\/request +[\d.]+ +[\d.]+ +0\.\d{3}x /m);
  assert.match(ran.stdout, /^ {2}requests\/s +\d+ +\d+ +[\d.]+x /m);
  assert.match(ran.stdout, /^B costs 0\.\d\dx A per request \(server CPU\), 95 % interval [\d.]+–[\d.]+; only 2 rounds/m);
});

test('one target with --server-pid: server CPU per request and RSS beside the usual summary', { skip: hasProc ? false : 'needs /proc (Linux)', timeout: 60_000 }, async (t) => {
  const server = await startServer(t, 0);
  const ran = await bench('--json', '-k', '-n', '200', '--server-pid', String(server.pid), server.url);
  assert.equal(ran.code, 0, ran.stderr);
  const result = JSON.parse(ran.stdout);
  assert.deepEqual(result.requests, { succeeded: 200, failed: 0 });
  assert.deepEqual(result.server.pids, [server.pid]);
  assert.ok(result.server.cpuMicros > 0, 'the server spent CPU answering 200 requests');
  assert.equal(result.server.cpuMicrosPerRequest, result.server.cpuMicros / 200);
  const human = await bench('-k', '-n', '50', '--server-pid', String(server.pid), server.url);
  assert.match(human.stdout, /^ {2}Server +[\d.]+ µs CPU\/request, RSS [\d.]+ MiB \(1 process\)$/m);
});

test('--vs with -n counts requests per slice exactly', async (t) => {
  const a = await countingServer(t);
  const b = await countingServer(t);
  const ran = await bench('--json', '-c', '2', '-n', '25', '--slices', '2', '--warmup', '0', '--vs', b.url, a.url);
  assert.equal(ran.code, 0, ran.stderr);
  const result = JSON.parse(ran.stdout);
  assert.equal(result.judgedOn, 'rps');
  for (const slice of result.slices) assert.deepEqual(slice.result.requests, { succeeded: 25, failed: 0 });
  assert.equal(a.served(), 50);
  assert.equal(b.served(), 50);
});

test('--vs bad input is one UsageError line', () => {
  const usage = (args: string[], pattern: RegExp): void =>
    assert.throws(() => parseBenchArgs(args), (err) => err instanceof UsageError && pattern.test(err.message));
  usage(['--vs', 'http://b/', '-t', '5', 'http://a/'], /with --vs, a slice lasts --slice-seconds/);
  usage(['--slices', '3', 'http://a/'], /need --vs URL2/);
  usage(['--server-pid', 'A=12', 'http://a/'], /needs --vs URL2/);
  usage(['--server-pid', 'C=12', 'http://a/'], /--server-pid takes PID, PID,PID or A=PID,B=PID, not 'C=12'/);
  usage(['--vs', 'http://b/', '--slices', '0', 'http://a/'], /--slices must be from 1/);
  usage(['--vs', 'http://b/', '--format', 'webbench', 'http://a/'], /--format webbench prints one run/);
  usage(['--vs', 'http://b/', '-n', '5', '--slice-seconds', '1', 'http://a/'], /either -n/);
});

test('--server-pid for only one side of --vs exits 2 with one line', async (t) => {
  const a = await countingServer(t);
  const ran = await bench('--vs', a.url, '--server-pid', `A=${process.pid}`, a.url);
  assert.equal(ran.code, 2);
  assert.equal(ran.stderr.trim().split('\n').length, 1, ran.stderr);
  assert.match(ran.stderr, /needs a pid for both targets/);
});
