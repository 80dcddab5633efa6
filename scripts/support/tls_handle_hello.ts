// bench:tls's floor for the fast engine's way: TLS on bare handles (src/uv/tls_handle.ts, what the
// fast engine runs on), answering each request head with a canned 'Hello, World!' and no parser at
// all. What the fast engine costs above this is herd's (its parser, responses, bookkeeping); what
// this costs above nginx is Node's TLS layer. Usage: node tls_handle_hello.ts PORT CERT KEY
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { acceptHandles, attachHandle, closeHandle, shutdownHandle, writeBuffer } from '../../src/uv/stream_handle.ts';
import type { HandleOwner, StreamHandle } from '../../src/uv/stream_handle.ts';
import { wrapTls } from '../../src/uv/tls_handle.ts';

const [port, cert, key] = process.argv.slice(2);
// No session tickets, as herd's and nginx's rows: wrk resumes from one whenever it can.
const context = tls.createSecureContext({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), secureOptions: crypto.constants.SSL_OP_NO_TICKET });
const reply = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!');
const closing = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!');

class Hello implements HandleOwner {
  private readonly handle: StreamHandle;

  constructor(handle: StreamHandle) {
    this.handle = handle;
  }

  onData(data: Buffer, length: number): void {
    // Heads end in a blank line; wrk sends whole heads, so counting them is enough for a floor.
    const text = data.toString('latin1', 0, length);
    for (let at = text.indexOf('\r\n\r\n'); at >= 0; at = text.indexOf('\r\n\r\n', at + 4)) {
      if (text.lastIndexOf('Connection: close', at) >= 0) {
        writeBuffer(this.handle, closing);
        shutdownHandle(this.handle);
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

  onWritten(): void {}
}

const server = net.createServer();
server.on('listening', () =>
  acceptHandles(server, (raw) => {
    const handle = wrapTls(raw, context, null);
    if (attachHandle(handle, new Hello(handle)) < 0) closeHandle(handle);
  }),
);
server.listen(Number(port), '127.0.0.1');
