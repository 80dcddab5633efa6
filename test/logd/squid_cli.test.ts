// `herd logd FILE` fed squid's protocol on stdin writes the files squid's log_file_daemon would.
// Expected contents are derived from squid's log_file_daemon.cc (see src/logd/protocol.ts).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { HERD, tempDir } from '../support/herd_process.ts';

function runLogd(args: string[], input: Buffer[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERD, 'logd', ...args], { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error('herd logd did not exit'));
    }, 20_000);
    // 'close', not 'exit': 'exit' can come before the last of stderr is read.
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
    // written in pieces, so lines arrive split across reads
    (async () => {
      for (const chunk of input) {
        child.stdin.write(chunk);
        await new Promise((r) => setTimeout(r, 5));
      }
      child.stdin.end();
    })().catch(reject);
  });
}

const read = (file: string): string => fs.readFileSync(file, 'latin1');

test('writes, flushes, rotates with a count, and writes unknown commands as squid does', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'access.log');
  fs.writeFileSync(`${file}.0`, 'older\n');
  const input = 'Lfirst line\nb0\nLsecond\nF\nT\nO\nhello unknown\n\nLwith\0nul\nr2\nR\nLafter rotate\nR\nLlast\nLno newline at end';
  const bytes = Buffer.from(input, 'latin1');
  const { code, stderr } = await runLogd([file], [bytes.subarray(0, 7), bytes.subarray(7, 40), bytes.subarray(40)]);
  assert.equal(code, 0, stderr);
  // r2 keeps FILE.0 and FILE.1: the first R moved older→.1, FILE→.0; the second dropped "older".
  assert.equal(read(`${file}.1`), 'first line\nsecond\nhello unknown\n\nwith');
  assert.equal(read(`${file}.0`), 'after rotate\n');
  assert.equal(read(file), 'last\nno newline at end');
  assert.deepEqual(fs.readdirSync(dir).sort(), ['access.log', 'access.log.0', 'access.log.1']);
});

test('the default count keeps 10 files; r0 makes R a plain reopen', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'x.log');
  let input = '';
  for (let i = 0; i < 12; i++) input += `Lline ${i}\nR\n`;
  input += 'r0\nLkept\nR\nLsame file\n';
  const { code } = await runLogd([file], [Buffer.from(input)]);
  assert.equal(code, 0);
  const names = fs.readdirSync(dir).sort();
  assert.deepEqual(names, ['x.log', ...Array.from({ length: 10 }, (_, i) => `x.log.${i}`)].sort());
  assert.equal(read(`${file}.0`), 'line 11\n');
  assert.equal(read(`${file}.9`), 'line 2\n');
  assert.equal(read(file), 'kept\nsame file\n');
});

test('a line longer than 65535 bytes is cut the way fgets cuts it', async (t) => {
  const dir = tempDir(t);
  const file = path.join(dir, 'long.log');
  // The second piece of the long line starts with R: squid's daemon rotates there.
  const input = `r1\nL${'x'.repeat(65534)}Rest\nLnext\n`;
  const { code } = await runLogd([file], [Buffer.from(input)]);
  assert.equal(code, 0);
  assert.equal(read(`${file}.0`), 'x'.repeat(65534));
  assert.equal(read(file), 'next\n');
});

test('bad input: no FILE, an unopenable FILE', async (t) => {
  const dir = tempDir(t);
  const none = await runLogd([], []);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /^herd: logd needs exactly one FILE/);
  const bad = await runLogd([path.join(dir, 'missing/dir/file.log')], []);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /^herd: cannot open log file .*missing\/dir\/file\.log: ENOENT\n$/);
});
