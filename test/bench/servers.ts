// Small servers the herd bench tests aim at, each on a free loopback port, each closed by t.after.
import net from 'node:net';
import http from 'node:http';
import type { TestContext } from 'node:test';

export interface Started {
  port: number;
  url: string;
}

async function listen(server: net.Server, t: TestContext): Promise<Started> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise<void>((resolve) => {
    server.close(() => resolve());
    if (server instanceof http.Server) server.closeAllConnections();
  }));
  const port = (server.address() as net.AddressInfo).port;
  return { port, url: `http://127.0.0.1:${port}/` };
}

/** node:http answering with `status(n)` for the n-th request (from 0); counts what it served. */
export async function countingServer(t: TestContext, status: (n: number) => number = () => 200): Promise<Started & { served: () => number }> {
  let served = 0;
  const server = http.createServer((req, res) => {
    res.statusCode = status(served++);
    res.end('hello');
  });
  return { ...(await listen(server, t)), served: () => served };
}

/** A raw TCP server that records every byte received per connection and calls `onData` with them so far. */
export async function rawServer(t: TestContext, onData: (socket: net.Socket, received: Buffer) => void): Promise<Started & { connections: () => Buffer[] }> {
  const all: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    const index = all.push(Buffer.alloc(0)) - 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    socket.on('data', (chunk) => {
      all[index] = Buffer.concat([all[index], chunk]);
      onData(socket, all[index]);
    });
  });
  t.after(() => {
    for (const s of sockets) s.destroy();
  });
  return { ...(await listen(server, t)), connections: () => all };
}

/** Complete requests (head + Content-Length body) found in `bytes`. */
export function countRequests(bytes: Buffer): number {
  let count = 0;
  let at = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at);
    if (end < 0) return count;
    const head = bytes.subarray(at, end).toString('latin1');
    const length = /\r\ncontent-length: *(\d+)/i.exec(head);
    at = end + 4 + (length ? Number(length[1]) : 0);
    if (at > bytes.length) return count;
    count++;
  }
}

/** A port nothing listens on: bound, read back, released. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
