// A connection over the per-worker limit: a short 503, then close, reading (and dropping) what the
// client sends meanwhile so it gets the answer rather than a reset.
import type net from 'node:net';
import { attachHandle, closeHandle, shutdownHandle, writeBuffer } from '../uv/stream_handle.ts';
import type { HandleOwner, StreamHandle } from '../uv/stream_handle.ts';

const OVER_CAPACITY = Buffer.from(
  'HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 37\r\nConnection: close\r\n\r\nService Unavailable: too many clients',
  'latin1',
);

/** How long a refused client may keep its connection open before it is closed. */
const LINGER_MS = 2000;

class Refusal implements HandleOwner {
  private handle: StreamHandle | null;
  private readonly socket: net.Socket | null;
  private readonly timer: NodeJS.Timeout;

  constructor(handle: StreamHandle, socket: net.Socket | null) {
    this.handle = handle;
    this.socket = socket;
    this.timer = setTimeout(() => this.close(), LINGER_MS);
    this.timer.unref();
    if (attachHandle(handle, this) < 0 || writeBuffer(handle, OVER_CAPACITY) < 0 || shutdownHandle(handle) < 0) this.close();
  }

  onData(): void {}

  onEnd(): void {
    this.close();
  }

  onFailure(): void {
    this.close();
  }

  onWritten(): void {}

  private close(): void {
    const handle = this.handle;
    if (handle === null) return;
    this.handle = null;
    clearTimeout(this.timer);
    closeHandle(handle);
    this.socket?.destroy();
  }
}

export function refuseOverCapacity(handle: StreamHandle, socket: net.Socket | null): void {
  new Refusal(handle, socket);
}
