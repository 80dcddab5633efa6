// The seed's blocking server in Node: one connection handled at a time, end to end — read the request,
// write the response, close, and only then take the next connection. Node accepts eagerly, so the
// waiting line lives in this process (connections accepted paused) rather than in the kernel's
// accept queue; what the clients see is the same: one answer at a time.
// Usage: node serial_server.ts --port P [--host H]
import net from 'node:net';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { port: { type: 'string' }, host: { type: 'string', default: '127.0.0.1' } } });

const body = 'Hello, World!';
const response = Buffer.from(
  `HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
);
const HEAD_END = Buffer.from('\r\n\r\n');
/** A client that connects and sends nothing must not stop the line for ever. */
const READ_TIMEOUT_MS = 10_000;

const waiting: net.Socket[] = [];
let busy = false;

function next(): void {
  const socket = waiting.shift();
  if (!socket) {
    busy = false;
    return;
  }
  busy = true;
  serve(socket);
}

function serve(socket: net.Socket): void {
  let head: Buffer = Buffer.alloc(0);
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    socket.setTimeout(0);
    socket.removeAllListeners('data');
    next();
  };
  socket.setTimeout(READ_TIMEOUT_MS, () => socket.destroy());
  socket.once('close', finish);
  socket.on('error', () => {}); // a reset client only ends its own turn
  socket.on('data', (data: Buffer) => {
    head = head.length === 0 ? data : Buffer.concat([head, data]);
    if (head.indexOf(HEAD_END) < 0) return;
    socket.end(response, finish);
  });
  socket.resume();
}

const server = net.createServer({ pauseOnConnect: true }, (socket) => {
  waiting.push(socket);
  if (!busy) next();
});
server.listen(Number(values.port), values.host, () => {
  console.log(`serial server listening on http://${values.host}:${(server.address() as net.AddressInfo).port}`);
});
process.on('SIGTERM', () => process.exit(0));
