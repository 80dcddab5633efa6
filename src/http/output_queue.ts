// What a connection has to send: buffers gathered while a read (or a tick) is processed, handed to
// the kernel in one write (writev for several), and the writes libuv still holds because the
// kernel did not take them at once. Past the mark, writers are told to wait; 'drain' is owed.
import { writeBuffer, writeBuffers } from '../uv/stream_handle.ts';
import type { StreamHandle } from '../uv/stream_handle.ts';
import { WRITE_PENDING } from '../uv/writer.ts';

/** Bytes gathered and not yet taken by the kernel above which writers are told to wait (net.Socket's default). */
export const OUTPUT_HIGH_WATER = 16 * 1024;

export class OutputQueue {
  /** Gathered for the next write: usually one buffer, the rest only when there are several. */
  private first: Buffer | null = null;
  private rest: Buffer[] | null = null;
  private gatheredBytes = 0;
  /** Writes libuv has queued and their bytes. */
  private writesPending = 0;
  bytesPending = 0;
  /** An add() returned false: 'drain' is owed once the output is gone. */
  private owesDrain = false;

  /** Gathers `data` for the next flush; false when the writer should wait for 'drain'. */
  add(data: Buffer): boolean {
    if (this.first === null) this.first = data;
    else if (this.rest === null) this.rest = [data];
    else this.rest.push(data);
    this.gatheredBytes += data.length;
    if (this.gatheredBytes + this.bytesPending < OUTPUT_HIGH_WATER) return true;
    this.owesDrain = true;
    return false;
  }

  /** Writes what is gathered in one call. Returns libuv's error (< 0), or 0. */
  flush(handle: StreamHandle): number {
    const first = this.first;
    if (first === null) return 0;
    const bytes = this.gatheredBytes;
    const rest = this.rest;
    this.first = null;
    this.rest = null;
    this.gatheredBytes = 0;
    let result: number;
    if (rest === null) {
      result = writeBuffer(handle, first);
    } else {
      rest.unshift(first);
      result = writeBuffers(handle, rest, bytes);
    }
    if (result === WRITE_PENDING) {
      this.writesPending++;
      this.bytesPending += bytes;
      return 0;
    }
    return result < 0 ? result : 0;
  }

  /** libuv finished a queued write. Returns whether everything is now in the kernel. */
  written(bytes: number): boolean {
    this.writesPending--;
    this.bytesPending -= bytes;
    return this.settled;
  }

  /** Nothing gathered, nothing queued in libuv. */
  get settled(): boolean {
    return this.writesPending === 0 && this.first === null;
  }

  get empty(): boolean {
    return this.first === null;
  }

  /** Whether 'drain' was owed; it no longer is. */
  takeDrain(): boolean {
    const owed = this.owesDrain;
    this.owesDrain = false;
    return owed;
  }

  /** The connection is gone: what is gathered is dropped. */
  discard(): void {
    this.first = null;
    this.rest = null;
    this.gatheredBytes = 0;
  }
}
