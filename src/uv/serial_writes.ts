// One write at a time on a handle that must not get a second before the first completes: node's
// TLSWrap aborts the process on one (CHECK(!current_write_) in crypto_tls.cc), and completes each
// write only from a later immediate, so two responses in one turn of the loop (a client pipelining
// requests in separate TLS records) would be two writes in flight. node's own TLS sockets never do
// that: their stream layer waits. Here a write made while one is in flight waits too, with any
// others made meanwhile, and they go as one writev when it completes. To the owner each write is
// pending (as every TLS write is) and completes with an onWritten of its own, in order.
import { WRITE_DONE, WRITE_PENDING } from './writer.ts';
import type { StreamWriter } from './writer.ts';
import type { HandleOwner, StreamHandle } from './stream_handle.ts';

export class SerialWrites {
  private readonly writer: StreamWriter;
  /** Bytes of the one owner write in flight, or -1 (none, or a batch). */
  private single = -1;
  /** Bytes of each owner write a batch in flight carries; null: no batch in flight. */
  private batch: number[] | null = null;
  private waiting: Uint8Array[] = [];
  private waitingBytes: number[] = [];

  constructor(writer: StreamWriter) {
    this.writer = writer;
  }

  /** As StreamWriter's write/writev: WRITE_DONE, WRITE_PENDING, or a negative errno. */
  write(handle: StreamHandle, data: Uint8Array | Uint8Array[], bytes: number): number {
    if (this.single >= 0 || this.batch !== null) {
      if (Array.isArray(data)) for (const chunk of data) this.waiting.push(chunk);
      else this.waiting.push(data);
      this.waitingBytes.push(bytes);
      return WRITE_PENDING;
    }
    const result = Array.isArray(data) ? this.writer.writev(handle, data, bytes) : this.writer.write(handle, data);
    if (result === WRITE_PENDING) this.single = bytes;
    return result;
  }

  /** The write in flight completed (status 0 or a negative errno): the waiting ones go, the owner hears. */
  completed(handle: StreamHandle, status: number): void {
    const single = this.single;
    const batch = this.batch;
    this.single = -1;
    this.batch = null;
    let failure = status < 0 ? status : 0;
    let doneToo: number[] | null = null;
    if (failure === 0 && this.waitingBytes.length > 0) {
      // Before the owner hears: a write it makes on hearing must go after these.
      const chunks = this.waiting;
      const counts = this.waitingBytes;
      this.waiting = [];
      this.waitingBytes = [];
      let total = 0;
      for (const n of counts) total += n;
      const result = this.writer.writev(handle, chunks, total);
      if (result === WRITE_PENDING) this.batch = counts;
      else if (result === WRITE_DONE) doneToo = counts;
      else failure = result;
    }
    const owner: HandleOwner | null = handle.herdOwner;
    if (owner === null) return;
    if (failure < 0) {
      owner.onFailure(failure);
      return;
    }
    if (single >= 0) owner.onWritten(single);
    if (batch !== null) for (const n of batch) owner.onWritten(n);
    if (doneToo !== null) for (const n of doneToo) owner.onWritten(n);
  }
}
