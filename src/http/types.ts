// The handler API of the fast engine: the portable subset of node:http's request and response.
// A handler typed `satisfies Handler` and reading the body with `for await` runs unchanged on
// `--engine node`; `req.text()` and `req.bytes()` are fast-engine conveniences.

/** Request headers as node's IncomingMessage.headers has them: lower-case names, duplicates joined. */
export type IncomingHeaders = Record<string, string | string[] | undefined>;

export type OutgoingHeaderValue = string | number | readonly string[];

/** Headers given to writeHead: an object, or [name, value] pairs. */
export type OutgoingHeaders = Record<string, OutgoingHeaderValue | undefined> | ReadonlyArray<readonly [string, OutgoingHeaderValue]>;

export interface Request extends AsyncIterable<Buffer> {
  readonly method: string;
  /** The request target as sent (origin form: path and query), decoded as latin1 like node. */
  readonly url: string;
  /** '1.0' or '1.1'. */
  readonly httpVersion: string;
  readonly headers: IncomingHeaders;
  /** The whole body decoded as UTF-8 (fast engine only). */
  text(): Promise<string>;
  /** The whole body (fast engine only). */
  bytes(): Promise<Buffer>;
}

export type ResponseEvent = 'drain' | 'finish' | 'close';

export interface Response {
  statusCode: number;
  statusMessage: string;
  readonly headersSent: boolean;
  readonly writableEnded: boolean;
  setHeader(name: string, value: OutgoingHeaderValue): this;
  getHeader(name: string): OutgoingHeaderValue | undefined;
  getHeaderNames(): string[];
  removeHeader(name: string): void;
  hasHeader(name: string): boolean;
  writeHead(statusCode: number, statusMessage?: string | OutgoingHeaders, headers?: OutgoingHeaders): this;
  /** Returns false when the chunk was queued behind a full socket buffer; wait for 'drain'. */
  write(chunk: string | Uint8Array, encoding?: BufferEncoding): boolean;
  end(chunk?: string | Uint8Array, encoding?: BufferEncoding): this;
  on(event: ResponseEvent, listener: () => void): this;
  once(event: ResponseEvent, listener: () => void): this;
}

export type Handler = (req: Request, res: Response) => void | Promise<void>;
