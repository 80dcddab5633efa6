// The floors' answer (handle_hello.ts, tls_handle_hello.ts): on a bare handle, each request head
// gets a canned 'Hello, World!', and no parser runs. Heads end in a blank line and wrk sends whole
// heads, so counting them is enough for a floor.
import { closeHandle, shutdownHandle, writeBuffer } from '../../src/uv/stream_handle.ts';
import type { HandleOwner, StreamHandle } from '../../src/uv/stream_handle.ts';
import { WRITE_DONE } from '../../src/uv/writer.ts';

const reply = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!');
const closing = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\nConnection: close\r\n\r\nHello, World!');

/**
 * How a `Connection: close` answer ends: 'close' once the answer is in the kernel (the FIN follows
 * it, as nginx and the fast engine do on TCP), or 'shutdown' (TLS: close_notify, then the peer's).
 */
export type HelloEnding = 'close' | 'shutdown';

export class CannedHello implements HandleOwner {
  private readonly handle: StreamHandle;
  private readonly ending: HelloEnding;
  private closeWhenWritten = false;

  constructor(handle: StreamHandle, ending: HelloEnding) {
    this.handle = handle;
    this.ending = ending;
  }

  onData(data: Buffer, length: number): void {
    const text = data.toString('latin1', 0, length);
    for (let at = text.indexOf('\r\n\r\n'); at >= 0; at = text.indexOf('\r\n\r\n', at + 4)) {
      if (text.lastIndexOf('Connection: close', at) >= 0) {
        const written = writeBuffer(this.handle, closing);
        if (this.ending === 'shutdown') shutdownHandle(this.handle);
        else if (written === WRITE_DONE) closeHandle(this.handle);
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
