// Writes on a libuv stream handle, with the request object recycled. A write the kernel takes at
// once never keeps its request object (StreamBase skips the WriteWrap), so one object serves every
// such write; a write that goes asynchronous keeps its object (and its data) until done, and the
// next write gets a fresh one. The object's fields are set only then: a store into this
// native-backed object is a slow runtime call, and nothing reads them before the completion, which
// cannot come before we return to the event loop.
import { state, streamBinding, WRITE_WAS_ASYNC } from './binding.ts';
import type { UvStream, WriteReq } from './binding.ts';

/** Result of a write that the kernel took whole. */
export const WRITE_DONE = 1;
/** Result of a write that libuv queued: the completion follows. */
export const WRITE_PENDING = 0;

/** Called when a queued write ends: status 0 or a negative errno, and the bytes it carried. */
export type WriteCompletion = (handle: UvStream, status: number, bytes: number) => void;

export interface StreamWriter {
  /** Writes one buffer: WRITE_DONE, WRITE_PENDING, or a negative errno. */
  write(handle: UvStream, data: Uint8Array): number;
  /** Writes several buffers in one system call (writev); the array must not change until written. */
  writev(handle: UvStream, chunks: Uint8Array[], bytes: number): number;
}

/** One writer per kind of user (module level, not per connection): its completion is shared. */
export function createStreamWriter(onComplete: WriteCompletion): StreamWriter {
  // A write can complete before its call returns: a TLSWrap whose write to the socket under it
  // fails reports that at once. Its request's fields are not set yet; finish() reports the status.
  let completedInCall = false;
  let statusInCall = 0;
  function afterWrite(this: WriteReq, status: number): void {
    const handle = this.handle;
    if (handle === undefined) {
      completedInCall = true;
      statusInCall = status;
      return;
    }
    this.handle = null;
    this.buffer = null;
    if (handle !== null) onComplete(handle, status, this.bytes);
  }
  const fresh = (): WriteReq => {
    const req = new streamBinding!.WriteWrap();
    req.oncomplete = afterWrite;
    return req;
  };
  let req = streamBinding === null ? (null as unknown as WriteReq) : fresh(); // never used without the binding
  const finish = (err: number, handle: UvStream, data: Uint8Array | Uint8Array[], bytes: number): number => {
    if (completedInCall) {
      // That request is spent: the next write needs a new one.
      completedInCall = false;
      req = fresh();
      return err < 0 ? err : statusInCall < 0 ? statusInCall : WRITE_DONE;
    }
    if (err < 0) return err;
    if (state[WRITE_WAS_ASYNC] === 0) return WRITE_DONE;
    // Queued: the request keeps the data alive (libuv writes from it) and tells afterWrite whose it is.
    req.handle = handle;
    req.buffer = data;
    req.bytes = bytes;
    req = fresh();
    return WRITE_PENDING;
  };
  return {
    write: (handle, data) => finish(handle.writeBuffer(req, data), handle, data, data.length),
    writev: (handle, chunks, bytes) => finish(handle.writev(req, chunks, true), handle, chunks, bytes),
  };
}
