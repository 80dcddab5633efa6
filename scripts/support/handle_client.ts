// bench:loadgen's floor under herd bench for a new connection per request: the same bare libuv TCP
// handles herd bench connects with (src/bench/tcp_handle.ts), each connection writing herd bench's
// HTTP/1.0 request, reading until the server's FIN and counting a reply whose status line says 200;
// no response parser, no latency recording, no statistics. What herd bench costs above this is its
// own code; what this costs above ab is Node's per handle (a TCP handle and a connect request per
// connection, each a native object with its async bookkeeping, and a callback into JavaScript for
// the connect and for each read), which no code in herd can remove.
// Usage: node handle_client.ts URL CLIENTS SECONDS — prints {"requests": N} (replies with 200).
// The URL's host is an IP address: the handles connect to an address, nothing resolves names.
import { tcpClose, tcpConnect, tcpWrite, type TcpEvents, type TcpHandle } from '../../src/bench/tcp_handle.ts';

const [href, clients = '10', seconds = '5'] = process.argv.slice(2);
const url = new URL(href);
const port = Number(url.port || 80);
const request = Buffer.from(`GET ${url.pathname} HTTP/1.0\r\nHost: ${url.host}\r\nUser-Agent: herd-floor\r\n\r\n`, 'latin1');
const receive = Buffer.allocUnsafe(64 * 1024);
const until = Date.now() + Number(seconds) * 1000;
let requests = 0;
/** Clients still running. */
let open = Number(clients);

/** One client: a connection at a time, a new one when it ends, until the time is up. */
class Client implements TcpEvents {
  private replied = false;
  private ok = false;

  connect(): void {
    if (Date.now() >= until) {
      if (--open === 0) console.log(JSON.stringify({ requests }));
      return;
    }
    this.replied = false;
    this.ok = false;
    const handle = tcpConnect(url.hostname, port, true, receive, this);
    if (typeof handle === 'number') throw new Error(`connect to ${href} failed: errno ${handle}`);
  }

  onConnect(handle: TcpHandle): void {
    tcpWrite(handle, request);
  }

  onData(_handle: TcpHandle, length: number): void {
    if (this.replied) return;
    this.replied = true;
    // "HTTP/1.x 200": the status code is bytes 9-11.
    this.ok = length >= 12 && receive[9] === 0x32 && receive[10] === 0x30 && receive[11] === 0x30;
  }

  onEnd(handle: TcpHandle): void {
    if (this.ok) requests++;
    tcpClose(handle);
    this.connect();
  }

  onFailure(handle: TcpHandle): void {
    tcpClose(handle);
    this.connect();
  }

  onWritten(): void {}
}

for (let i = 0; i < open; i++) new Client().connect();
