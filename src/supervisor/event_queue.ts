// The seed's unified event source: signals, worker exits, timers and control commands all become
// events in one queue, and the supervisor's loop takes them one at a time, in order.
export class EventQueue<E> implements AsyncIterable<E> {
  #events: E[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  push(event: E): void {
    if (this.#closed) return;
    this.#events.push(event);
    this.#wake?.();
  }

  close(): void {
    this.#closed = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<E> {
    while (true) {
      while (this.#events.length > 0) yield this.#events.shift()!;
      if (this.#closed) return;
      await new Promise<void>((resolve) => (this.#wake = resolve));
      this.#wake = undefined;
    }
  }
}
