// Timeouts that fit streaming: --request-timeout bounds the time to the response head, not a
// streaming body; --idle-timeout cuts a response that moves no bytes; --body-timeout a body that
// stops arriving (408). Each cut is one line.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { fixture, startHerd } from '../support/herd_process.ts';

/** Sends `head` (and `body` in slices of `slice` bytes every `everyMs`), returns the raw reply. */
function exchange(port: number, head: string, options: { body?: number; slice?: number; everyMs?: number; readPerMs?: number; stopAfter?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let received = 0;
    socket.setTimeout(30_000, () => socket.destroy(new Error('client timeout')));
    socket.once('connect', async () => {
      socket.write(head);
      let sent = 0;
      const total = options.stopAfter ?? options.body ?? 0;
      while (sent < total) {
        const n = Math.min(options.slice ?? 16384, total - sent);
        socket.write(Buffer.alloc(n, 'u'));
        sent += n;
        await new Promise((r) => setTimeout(r, options.everyMs ?? 10));
      }
    });
    socket.on('data', (d) => {
      chunks.push(d);
      received += d.length;
      // A slow reader: pause so the kernel buffers fill and the server must wait for us.
      if (options.readPerMs) {
        socket.pause();
        setTimeout(() => socket.resume(), Math.ceil(d.length / options.readPerMs));
      }
    });
    socket.once('error', reject);
    socket.once('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    void received;
  });
}

test('SSE outlives the request timeout; a slow upload and a slow download complete; stalls are cut once each', async (t) => {
  const herd = await startHerd(t, [fixture('streams.js'), '--workers', '1', '--request-timeout', '1', '--idle-timeout', '1.5', '--body-timeout', '1.5']);
  const get = (path: string) => `GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`;
  const upload = 1536 * 1024;
  const [sse, uploaded, downloaded, stalled, bodyStalled] = await Promise.all([
    // 12 events, 200 ms apart: 2.4 s, past the 1 s request timeout.
    exchange(herd.port, get('/sse')),
    // 1.5 MB at about 400 KB/s: about 4 s of body.
    exchange(herd.port, `POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: ${upload}\r\n\r\n`, { body: upload, slice: 16384, everyMs: 40 }),
    // 8 MB read at about 3 MB/s.
    exchange(herd.port, get('/download'), { readPerMs: 3000 }),
    exchange(herd.port, get('/stall')),
    // Half a body, then nothing.
    exchange(herd.port, `POST /upload HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 100000\r\n\r\n`, { body: 100000, stopAfter: 50000 }),
  ]);
  assert.match(sse, /^HTTP\/1\.1 200/);
  assert.equal((sse.match(/data: \d+/g) ?? []).length, 12, sse);
  assert.match(uploaded, /^HTTP\/1\.1 200/);
  assert.ok(uploaded.endsWith(`\r\n\r\n${upload}`) || uploaded.includes(`\r\n\r\n${upload}`), uploaded);
  assert.match(downloaded, /^HTTP\/1\.1 200/);
  assert.equal(downloaded.length - downloaded.indexOf('\r\n\r\n') - 4, 8 * 1024 * 1024, 'the whole download arrived');
  // Cut: the chunked body never gets its last chunk, so the client sees a truncated response.
  assert.match(stalled, /^HTTP\/1\.1 200[^]*\r\n16\r\nhead and a first line\n\r\n$/);
  assert.match(bodyStalled, /^HTTP\/1\.1 408/);
  await new Promise((r) => setTimeout(r, 300));
  const cuts = herd.output().split('\n').filter((l) => l.includes('herd cut a response'));
  assert.equal(cuts.length, 2, herd.output());
  assert.ok(cuts.some((l) => /GET \/stall .*connection closed: the response moved no bytes .* \(--idle-timeout\)/.test(l)), cuts.join('\n'));
  assert.ok(cuts.some((l) => /POST \/upload .*408: no request body bytes .* \(--body-timeout\)/.test(l)), cuts.join('\n'));
});

test('--request-timeout 0 turns it off: a slow response is not a 503', async (t) => {
  const herd = await startHerd(t, [fixture('slow.js'), '--workers', '1', '--request-timeout', '0']);
  const reply = await exchange(herd.port, 'GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  assert.match(reply, /^HTTP\/1\.1 200[^]*slow done$/);
});
