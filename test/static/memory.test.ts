// Large files streamed to slow readers: the server's resident memory stays flat. The server runs
// in a child process so that its RSS (VmRSS in /proc/<pid>/status) is its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { buildTree, request } from './tree.ts';

const MIB = 1024 * 1024;
const GIB = 1024 * MIB;
/**
 * What the server may grow by while streaming. Chunks in flight are a few hundred KiB; the rest
 * is garbage V8 has not collected yet: it runs a full GC each time ~64 MiB of buffers (external
 * memory) have been allocated, so the peak is that slack, whatever the file's size.
 */
const RSS_GROWTH_BOUND = 100 * MIB;
const SERVER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures', 'serve_static.ts');

function rssBytes(pid: number): number {
  const kib = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  if (kib === undefined) throw new Error(`no VmRSS for ${pid}`);
  return Number(kib) * 1024;
}

/** A sparse file (instant, no disk used) of `size` bytes that starts with BEGIN and ends with END. */
function sparseFile(file: string, size: number): void {
  fs.writeFileSync(file, 'BEGIN');
  fs.truncateSync(file, size);
  const fd = fs.openSync(file, 'r+');
  fs.writeSync(fd, 'END', size - 3);
  fs.closeSync(fd);
}

/** Starts the server on `root`, warms it up and samples its RSS until the returned stop() is called. */
async function startMeasuredServer(t: TestContext, root: string): Promise<{ port: number; stop: () => { baseline: number; peak: number } }> {
  const child = spawn(process.execPath, [SERVER, root], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.after(() => child.kill('SIGKILL'));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
  for (let k = 0; k < 20; k++) assert.equal((await request(port, '/hello.txt')).status, 200); // JIT, first lookup
  const baseline = rssBytes(child.pid!);
  let peak = baseline;
  const sampler = setInterval(() => (peak = Math.max(peak, rssBytes(child.pid!))), 20);
  t.after(() => clearInterval(sampler));
  return {
    port,
    stop: () => {
      clearInterval(sampler);
      return { baseline, peak };
    },
  };
}

interface Streamed {
  /** Body bytes of each response, in order. */
  lengths: number[];
  first: string;
  last: string;
}

/**
 * Sends `requests` (raw, possibly pipelined) and reads the responses slowly: a pause every 32 MiB,
 * long enough for the server to meet a full socket. Only counts bytes; keeps the first 5 and last 3.
 */
function readSlowly(port: number, requests: string, declared: number): Promise<Streamed> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const lengths: number[] = [];
    let pending = Buffer.alloc(0); // head bytes not parsed yet
    let remaining = 0; // body bytes left of the current response
    let first = '';
    let last = Buffer.alloc(0);
    let total = 0;
    let nextStall = 32 * MIB;
    socket.on('connect', () => socket.write(requests));
    socket.on('data', (d: Buffer) => {
      while (d.length > 0) {
        if (remaining === 0) {
          pending = Buffer.concat([pending, d]);
          const end = pending.indexOf('\r\n\r\n');
          if (end === -1) return;
          remaining = Number(/content-length: (\d+)/i.exec(pending.toString('latin1', 0, end))?.[1]);
          assert.equal(remaining, declared);
          lengths.push(0);
          d = pending.subarray(end + 4);
          pending = Buffer.alloc(0);
          continue;
        }
        const take = Math.min(remaining, d.length);
        const body = d.subarray(0, take);
        if (first.length < 5) first += body.toString('latin1', 0, 5 - first.length);
        last = Buffer.concat([last, body.subarray(Math.max(0, body.length - 3))]).subarray(-3);
        lengths[lengths.length - 1] += take;
        remaining -= take;
        total += take;
        d = d.subarray(take);
      }
      if (total >= nextStall) {
        nextStall += 32 * MIB;
        socket.pause();
        setTimeout(() => socket.resume(), 15);
      }
    });
    socket.on('error', reject);
    socket.on('close', () => resolve({ lengths, first, last: last.toString('latin1') }));
  });
}

function assertFlat(rss: { baseline: number; peak: number }, what: string): void {
  const growth = rss.peak - rss.baseline;
  console.log(`# ${what}: server RSS baseline ${(rss.baseline / MIB).toFixed(1)} MiB, peak ${(rss.peak / MIB).toFixed(1)} MiB`);
  assert.ok(growth < RSS_GROWTH_BOUND, `server RSS grew by ${(growth / MIB).toFixed(1)} MiB`);
}

test('a 1 GiB file streamed to a slow reader keeps the server RSS flat', { timeout: 60_000 }, async (t) => {
  const tree = buildTree(t);
  sparseFile(path.join(tree.root, 'huge.bin'), GIB);
  const server = await startMeasuredServer(t, tree.root);
  const got = await readSlowly(server.port, 'GET /huge.bin HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n', GIB);
  const rss = server.stop();
  assert.deepEqual(got.lengths, [GIB]);
  assert.equal(got.first, 'BEGIN');
  assert.equal(got.last, 'END');
  assertFlat(rss, '1 GiB to a slow reader');
});

test(
  'two pipelined requests for a large file keep the server RSS flat',
  {
    timeout: 60_000,
  },
  async (t) => {
    const tree = buildTree(t);
    sparseFile(path.join(tree.root, 'huge.bin'), 256 * MIB);
    const server = await startMeasuredServer(t, tree.root);
    const get = 'GET /huge.bin HTTP/1.1\r\nHost: h\r\n\r\n';
    const got = await readSlowly(server.port, get + get.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n'), 256 * MIB);
    const rss = server.stop();
    assert.deepEqual(got.lengths, [256 * MIB, 256 * MIB]);
    assertFlat(rss, 'two pipelined 256 MiB responses');
  },
);
