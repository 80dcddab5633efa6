// bench:tls's floor for the fast engine's way: TLS on bare handles (src/uv/tls_handle.ts, what the
// fast engine runs on), answering each request head with a canned 'Hello, World!' and no parser at
// all. What the fast engine costs above this is herd's (its parser, responses, bookkeeping); what
// this costs above nginx is Node's TLS layer. Usage: node tls_handle_hello.ts PORT CERT KEY
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { acceptHandles, attachHandle, closeHandle } from '../../src/uv/stream_handle.ts';
import { wrapTls } from '../../src/uv/tls_handle.ts';
import { CannedHello } from './canned_hello.ts';

const [port, cert, key] = process.argv.slice(2);
// No session tickets, as herd's and nginx's rows: wrk resumes from one whenever it can.
const context = tls.createSecureContext({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), secureOptions: crypto.constants.SSL_OP_NO_TICKET });
const server = net.createServer();
server.on('listening', () =>
  acceptHandles(server, (raw) => {
    const handle = wrapTls(raw, context, null);
    if (attachHandle(handle, new CannedHello(handle, 'shutdown')) < 0) closeHandle(handle);
  }),
);
server.listen(Number(port), '127.0.0.1');
