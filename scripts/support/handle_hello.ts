// bench:engine's floor for the fast engine: Node's bare libuv handles (src/uv/stream_handle.ts, what
// the fast engine runs on) answering each request head with a canned 'Hello, World!', no parser and
// no bookkeeping. What the fast engine costs above this row is herd's own code; what this row costs
// above nginx is Node's per handle (a TCPWrap and its async bookkeeping per accept, a callback into
// JavaScript per read), which no code in herd can remove.
// Usage: node handle_hello.ts PORT WORKERS — WORKERS processes, each its own SO_REUSEPORT socket, as
// `herd serve --dispatch reuseport` runs, all children of this one (one process tree to measure). It prints 'listening' once all of them do.
import { fork } from 'node:child_process';
import net from 'node:net';
import { acceptHandles, attachHandle, closeHandle, writeBuffer } from '../../src/uv/stream_handle.ts';
import type { HandleOwner, StreamHandle } from '../../src/uv/stream_handle.ts';
import { WRITE_DONE } from '../../src/uv/writer.ts';

const [port, workers = '2'] = process.argv.slice(2);

const reply = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!');
const closing = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!');

class Hello implements HandleOwner {
  private readonly handle: StreamHandle;
  private closeWhenWritten = false;

  constructor(handle: StreamHandle) {
    this.handle = handle;
  }

  onData(data: Buffer, length: number): void {
    // Heads end in a blank line; wrk sends whole heads, so counting them is enough for a floor.
    const text = data.toString('latin1', 0, length);
    for (let at = text.indexOf('\r\n\r\n'); at >= 0; at = text.indexOf('\r\n\r\n', at + 4)) {
      if (text.lastIndexOf('Connection: close', at) >= 0) {
        // As nginx and the fast engine: the answer in the kernel, then close (the FIN follows it).
        if (writeBuffer(this.handle, closing) === WRITE_DONE) closeHandle(this.handle);
        else this.closeWhenWritten = true;
        return;
      }
      writeBuffer(this.handle, reply);
    }
  }

  onEnd(): void {
    closeHandle(this.handle);
  }

  onFailure(): void {
    closeHandle(this.handle);
  }

  onWritten(): void {
    if (this.closeWhenWritten) closeHandle(this.handle);
  }
}

if (process.send === undefined) {
  const children = Array.from({ length: Number(workers) }, () => fork(new URL(import.meta.url).pathname, [port], { stdio: 'inherit' }));
  let listening = 0;
  for (const child of children) child.once('message', () => ++listening === children.length && console.log('listening'));
  const stop = () => {
    for (const child of children) child.kill('SIGTERM');
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
} else {
  const server = net.createServer();
  server.on('listening', () => {
    acceptHandles(server, (handle) => {
      if (attachHandle(handle, new Hello(handle)) < 0) closeHandle(handle);
    });
    process.send!('listening');
  });
  server.listen({ port: Number(port), host: '127.0.0.1', reusePort: true });
}
