// The request a handler gets: the parsed head plus the body as it arrives.
// Body chunks are slices of the socket's read buffers (no copy) queued until the handler reads them;
// the parser's body limit bounds how much can queue.
import { HerdError } from '../errors.ts';
import type { RequestHead } from './request_head.ts';
import type { IncomingHeaders, Request } from './types.ts';
import { defineUnavailable, REQUEST_UNAVAILABLE } from './unavailable.ts';

export class FastRequest implements Request {
  readonly head: RequestHead;
  /** Body chunks not read yet; null until the first arrives (most requests have none). */
  private chunks: Buffer[] | null = null;
  private ended = false;
  private failure: Error | null = null;
  private wake: (() => void) | null = null;
  private reading = false;

  constructor(head: RequestHead) {
    this.head = head;
  }

  get method(): string {
    return this.head.method;
  }

  get url(): string {
    return this.head.url;
  }

  get httpVersion(): string {
    return this.head.httpVersion;
  }

  get headers(): IncomingHeaders {
    return this.head.headers();
  }

  /** Called by the connection as body bytes arrive. */
  pushBody(chunk: Buffer): void {
    if (this.chunks === null) this.chunks = [chunk];
    else this.chunks.push(chunk);
    this.notify();
  }

  endBody(): void {
    this.ended = true;
    this.notify();
  }

  /** The body will never complete (bad framing, limit, connection lost). */
  failBody(error: Error): void {
    if (this.ended) return;
    this.failure = error;
    this.notify();
  }

  get bodyComplete(): boolean {
    return this.ended;
  }

  private notify(): void {
    const wake = this.wake;
    if (wake !== null) {
      this.wake = null;
      wake();
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    if (this.reading) throw new HerdError('the request body can only be read once', 'HERD_BODY_READ');
    this.reading = true;
    for (;;) {
      if (this.chunks !== null && this.chunks.length > 0) {
        const chunk = this.chunks.shift()!;
        yield chunk;
      } else if (this.ended) {
        return;
      } else if (this.failure !== null) {
        throw this.failure;
      } else {
        await new Promise<void>((resolve) => (this.wake = resolve));
      }
    }
  }

  async bytes(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const chunk of this) parts.push(chunk);
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  async text(): Promise<string> {
    return (await this.bytes()).toString('utf8');
  }
}

defineUnavailable(FastRequest.prototype, 'req', REQUEST_UNAVAILABLE);
