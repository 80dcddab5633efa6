// bench:tls's yardstick for the road not taken: TLS through a TLSSocket's stream path ('data'
// events, socket.write), answering each request head with a canned 'Hello, World!' and no parser
// at all. Whatever a parser fed this way costs, it costs at least this; the fast engine instead
// drives the TLS socket's native handle. Usage: node tls_stream_hello.ts PORT CERT KEY
import crypto from 'node:crypto';
import fs from 'node:fs';
import tls from 'node:tls';

const [port, cert, key] = process.argv.slice(2);
const reply = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!');
const closing = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!');
// No session tickets, as herd's and nginx's rows: wrk resumes from one whenever it can.
const server = tls.createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key), secureOptions: crypto.constants.SSL_OP_NO_TICKET }, (socket) => {
  socket.on('error', () => socket.destroy());
  socket.on('data', (data: Buffer) => {
    // Heads end in a blank line; wrk sends whole heads, so counting them is enough for a yardstick.
    for (let at = data.indexOf('\r\n\r\n'); at >= 0; at = data.indexOf('\r\n\r\n', at + 4)) {
      if (data.lastIndexOf('Connection: close', at) >= 0) {
        socket.end(closing);
        return;
      }
      socket.write(reply);
    }
  });
});
server.listen(Number(port), '127.0.0.1');
