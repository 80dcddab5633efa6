// bench:engine's floor for the fast engine: Node's bare libuv handles (src/uv/stream_handle.ts, what
// the fast engine runs on) answering each request head with a canned 'Hello, World!', no parser and
// no bookkeeping. What the fast engine costs above this row is herd's own code; what this row costs
// above nginx is Node's per handle (a TCPWrap and its async bookkeeping per accept, a callback into
// JavaScript per read), which no code in herd can remove.
// Usage: node handle_hello.ts PORT WORKERS — WORKERS processes, each its own SO_REUSEPORT socket, as
// `herd serve --dispatch reuseport` runs, all children of this one (one process tree to measure).
// It prints 'listening' once all of them listen.
import { fork } from 'node:child_process';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { acceptHandles, attachHandle, closeHandle } from '../../src/uv/stream_handle.ts';
import { CannedHello } from './canned_hello.ts';

const [port, workers = '2'] = process.argv.slice(2);

if (process.send === undefined) {
  const children = Array.from({ length: Number(workers) }, () => fork(fileURLToPath(import.meta.url), [port], { stdio: 'inherit' }));
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
      if (attachHandle(handle, new CannedHello(handle, 'close')) < 0) closeHandle(handle);
    });
    process.send!('listening');
  });
  server.listen({ port: Number(port), host: '127.0.0.1', reusePort: true });
}
