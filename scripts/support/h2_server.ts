// A node:http2 cleartext server on 127.0.0.1:argv[2] answering 'Hello, World!': the HTTP/2
// target of npm run bench:loadgen (h2load and herd bench --http2 speak prior-knowledge h2c).
import http2 from 'node:http2';

const server = http2.createServer();
server.on('stream', (stream) => {
  stream.respond({ ':status': 200, 'content-type': 'text/plain' });
  stream.end('Hello, World!');
});
server.listen(Number(process.argv[2]), '127.0.0.1');
