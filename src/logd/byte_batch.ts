// Bytes gathered for the next write. take() hands the filled part to a write and carries on in
// another buffer; taken buffers come back, in the order they were taken, with written(), so a steady
// stream of batches allocates nothing.
const INITIAL_BYTES = 16 * 1024;

export class ByteBatch {
  // allocUnsafeSlow: a long-lived buffer of its own, not a slice of Node's shared pool.
  private buffer: Buffer = Buffer.allocUnsafeSlow(INITIAL_BYTES);
  private spare: Buffer | undefined;
  /** Buffers handed out by take() whose write has not completed, oldest first. */
  private readonly taken: Buffer[] = [];
  length = 0;

  append(source: Buffer, start: number, end: number): void {
    const n = end - start;
    if (this.length + n > this.buffer.length) this.grow(this.length + n);
    source.copy(this.buffer, this.length, start, end);
    this.length += n;
  }

  /** The buffer, with room for `n` more bytes from `length` on; whoever fills them moves `length`. */
  reserve(n: number): Buffer {
    if (this.length + n > this.buffer.length) this.grow(this.length + n);
    return this.buffer;
  }

  appendString(text: string): void {
    const n = Buffer.byteLength(text);
    if (this.length + n > this.buffer.length) this.grow(this.length + n);
    this.length += this.buffer.write(text, this.length);
  }

  /** The bytes gathered so far, to be written; the batch starts over empty. Must not be changed until written(). */
  take(): Buffer {
    const filled = this.buffer.subarray(0, this.length);
    this.taken.push(this.buffer);
    this.buffer = this.spare ?? Buffer.allocUnsafeSlow(INITIAL_BYTES);
    this.spare = undefined;
    this.length = 0;
    return filled;
  }

  /** The oldest batch from take() is written: its buffer may be filled again. */
  written(): void {
    this.spare = this.taken.shift();
  }

  private grow(needed: number): void {
    let size = this.buffer.length * 2;
    while (size < needed) size *= 2;
    const bigger = Buffer.allocUnsafeSlow(size);
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
}
