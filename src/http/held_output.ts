// The output of a pipelined response written before its turn: held until the responses before it
// are done, then sent in order. A streaming handler is told to wait (write() returns false) past a
// mark, or it would read a whole large file into memory before its turn comes. Allocated only for
// a response that writes while not first in its connection's queue.

/** How much a response queued behind another may hold before its write() returns false. */
const HELD_HIGH_WATER = 16 * 1024;

export class HeldOutput {
  private readonly buffers: Buffer[] = [];
  private bytes = 0;
  /** A hold() returned false: 'drain' is owed once the output is sent. */
  private owesDrain = false;

  /** Returns false once the held bytes are past the mark (the writer should wait for 'drain'). */
  hold(data: Buffer): boolean {
    this.buffers.push(data);
    this.bytes += data.length;
    if (this.bytes < HELD_HIGH_WATER) return true;
    this.owesDrain = true;
    return false;
  }

  /**
   * Sends what is held to `to`, in order. Returns true when 'drain' is owed now: the writer
   * was told to wait and the connection's last send stayed below its own mark (above it, the
   * connection fires 'drain' itself once its output is written).
   */
  release(to: { send(data: Buffer): boolean }): boolean {
    let below = true;
    for (const data of this.buffers) below = to.send(data);
    return this.owesDrain && below;
  }
}
