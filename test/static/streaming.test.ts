// Files above the cache limit are streamed with backpressure: a slow reader gets every byte; a
// file cut short mid-stream cuts the connection instead of passing a short body for a whole one;
// a client that leaves mid-stream leaves no descriptor behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { buildTree, request, serveFast, serveNode, staticOptions } from './tree.ts';
import { quietErrors } from '../http/wire.ts';

interface Received {
  head: string;
  body: Buffer;
}

/** Sends GET on a raw socket; `onFirstBytes` runs once when the first bytes arrive. */
function rawGet(port: number, target: string, onFirstBytes: (socket: net.Socket) => void): Promise<Received> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let first = true;
    socket.on('connect', () => socket.write(`GET ${target} HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n`));
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      if (first) {
        first = false;
        onFirstBytes(socket);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf('\r\n\r\n');
      if (end === -1) return reject(new Error('no response head'));
      resolve({ head: all.toString('latin1', 0, end), body: all.subarray(end + 4) });
    });
  });
}

function contentLength(head: string): number {
  return Number(/\r\ncontent-length: (\d+)/i.exec(head)?.[1]);
}

test('a slow reader gets every byte of a streamed file, on both engines', async (t) => {
  const tree = buildTree(t);
  for (const port of [await serveFast(t, staticOptions(tree)), await serveNode(t, staticOptions(tree))]) {
    let paused = 0;
    const received = await rawGet(port, '/big.bin', (socket) => {
      // Stop reading a few times so the server meets a full socket and must wait for 'drain'.
      const stall = (): void => {
        if (socket.destroyed || paused >= 5) return;
        paused++;
        socket.pause();
        setTimeout(() => {
          socket.resume();
          setTimeout(stall, 5);
        }, 30);
      };
      stall();
    });
    assert.equal(contentLength(received.head), tree.big.length);
    assert.deepEqual(received.body, tree.big);
  }
});

test('a file truncated while it is streamed: the connection is cut short, the server serves on', async (t) => {
  const errors = quietErrors(t);
  const tree = buildTree(t);
  const huge = path.join(tree.root, 'huge.bin');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 64 * 1024 * 1024); // sparse: far more than the socket buffers can hold
  const port = await serveFast(t, staticOptions(tree));
  const received = await rawGet(port, '/huge.bin', (socket) => {
    socket.pause();
    fs.truncateSync(huge, 1024 * 1024);
    setTimeout(() => socket.resume(), 20);
  });
  assert.match(received.head, /^HTTP\/1\.1 200 /);
  assert.equal(contentLength(received.head), 64 * 1024 * 1024);
  assert.ok(received.body.length < 64 * 1024 * 1024, 'the short body is not passed off as complete');
  assert.ok(errors.some((line) => line.includes('got shorter')), errors.join('\n'));
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'hello world\n');
});

test('a client that leaves mid-stream: the server closes the file and serves on', async (t) => {
  const tree = buildTree(t);
  const huge = path.join(tree.root, 'huge.bin');
  fs.writeFileSync(huge, '');
  fs.truncateSync(huge, 64 * 1024 * 1024);
  const port = await serveFast(t, staticOptions(tree));
  const openFiles = (): number => fs.readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`) === huge;
    } catch {
      return false;
    }
  }).length;
  for (let k = 0; k < 3; k++) {
    const received = await rawGet(port, '/huge.bin', (socket) => socket.destroy());
    assert.ok(received.body.length < 64 * 1024 * 1024);
  }
  for (let waited = 0; openFiles() > 0 && waited < 5000; waited += 20) await sleep(20);
  assert.equal(openFiles(), 0, 'descriptors of huge.bin left open');
  assert.equal((await request(port, '/hello.txt')).body.toString(), 'hello world\n');
});

test('a file that may not be read gets 403', { skip: process.getuid?.() === 0 ? 'root may read any file' : false }, async (t) => {
  const tree = buildTree(t);
  fs.chmodSync(path.join(tree.root, 'hello.txt'), 0);
  const port = await serveFast(t, staticOptions(tree));
  assert.equal((await request(port, '/hello.txt')).status, 403);
});
