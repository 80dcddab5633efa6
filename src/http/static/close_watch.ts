// Whether a response's connection has gone, and a wait for 'drain' that also ends when it goes:
// a stream must neither write into a closed connection nor wait forever for a 'drain' that will
// not come. Created before the handler's first await so that no 'close' is missed.
import type { Response } from '../types.ts';

export class CloseWatch {
  closed = false;
  private readonly res: Response;
  private wake: (() => void) | null = null;

  constructor(res: Response) {
    this.res = res;
    res.once('close', () => {
      this.closed = true;
      this.release();
    });
  }

  /** Resolves on the response's next 'drain', or when the connection closes. */
  writable(): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.wake = resolve;
      this.res.once('drain', () => this.release());
    });
  }

  private release(): void {
    const wake = this.wake;
    this.wake = null;
    if (wake !== null) wake();
  }
}
