// Test-side HTTP: raw exchanges over a socket and a strict response reader, so tests see exactly
// the bytes a server wrote.
import net from 'node:net';
import type { TestContext } from 'node:test';
import type { Engine, EngineOptions } from '../../src/worker/engine.ts';

export interface WireResponse {
  status: number;
  reason: string;
  /** Lower-case names; repeated names joined with ', '. */
  headers: Record<string, string>;
  body: Buffer;
}

const STATUS_LINE = /^HTTP\/1\.[01] ([1-9]\d\d) ([^\r\n]*)$/;
const HEADER_LINE = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*([^\r\n]*?)[ \t]*$/;

/**
 * Every response in `data`, in order; throws unless `data` is exactly a sequence of valid responses.
 * `methods` are the request methods in order (HEAD responses have no body).
 */
export function parseResponses(data: Buffer, methods: readonly string[] = []): WireResponse[] {
  const out: WireResponse[] = [];
  let pos = 0;
  let answered = 0;
  while (pos < data.length) {
    const headEnd = data.indexOf('\r\n\r\n', pos, 'latin1');
    if (headEnd === -1) throw new Error(`truncated response head: ${JSON.stringify(data.toString('latin1', pos, pos + 200))}`);
    const lines = data.toString('latin1', pos, headEnd).split('\r\n');
    const statusMatch = STATUS_LINE.exec(lines[0]);
    if (!statusMatch) throw new Error(`bad status line: ${JSON.stringify(lines[0])}`);
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const m = HEADER_LINE.exec(line);
      if (!m) throw new Error(`bad header line: ${JSON.stringify(line)}`);
      const name = m[1].toLowerCase();
      headers[name] = headers[name] === undefined ? m[2] : `${headers[name]}, ${m[2]}`;
    }
    pos = headEnd + 4;
    const status = Number(statusMatch[1]);
    if (status < 200) {
      out.push({ status, reason: statusMatch[2], headers, body: Buffer.alloc(0) });
      continue;
    }
    const method = methods[answered++] ?? 'GET';
    let body: Buffer;
    if (method === 'HEAD' || status === 204 || status === 304) {
      body = Buffer.alloc(0);
    } else if (headers['transfer-encoding'] !== undefined) {
      if (!/(^|,)\s*chunked$/i.test(headers['transfer-encoding'])) throw new Error('unsupported transfer-encoding');
      const parts: Buffer[] = [];
      for (;;) {
        const eol = data.indexOf('\r\n', pos, 'latin1');
        if (eol === -1) throw new Error('truncated chunk size');
        const sizeText = data.toString('latin1', pos, eol);
        if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size ${JSON.stringify(sizeText)}`);
        const size = parseInt(sizeText, 16);
        pos = eol + 2;
        if (size === 0) {
          if (data.toString('latin1', pos, pos + 2) !== '\r\n') throw new Error('bad last chunk');
          pos += 2;
          break;
        }
        if (pos + size + 2 > data.length) throw new Error('truncated chunk');
        parts.push(data.subarray(pos, pos + size));
        if (data.toString('latin1', pos + size, pos + size + 2) !== '\r\n') throw new Error('chunk not followed by CRLF');
        pos += size + 2;
      }
      body = Buffer.concat(parts);
    } else if (headers['content-length'] !== undefined) {
      if (!/^\d+$/.test(headers['content-length'])) throw new Error('bad content-length');
      const length = Number(headers['content-length']);
      if (pos + length > data.length) throw new Error(`truncated body: ${data.length - pos} of ${length} bytes`);
      body = data.subarray(pos, pos + length);
      pos += length;
    } else {
      body = data.subarray(pos);
      pos = data.length;
    }
    out.push({ status, reason: statusMatch[2], headers, body });
  }
  return out;
}

export interface ExchangeOptions {
  /** Send FIN after the request (default true): the server answers what it got, then closes. */
  halfClose?: boolean;
  timeoutMs?: number;
}

/** Sends raw bytes on a new connection and resolves with everything received until the server closes. */
export function exchange(port: number, data: Buffer | string, options: ExchangeOptions = {}): Promise<Buffer> {
  const { halfClose = true, timeoutMs = 5000 } = options;
  return new Promise((resolve, reject) => {
    const socket = net.connect({ port, host: '127.0.0.1', allowHalfOpen: true });
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no close within ${timeoutMs} ms; received ${JSON.stringify(Buffer.concat(chunks).toString('latin1').slice(0, 300))}`));
    }, timeoutMs);
    socket.on('connect', () => {
      if (halfClose) socket.end(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
      else socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    });
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('end', () => socket.end());
    socket.on('error', () => {}); // a reset still resolves with what arrived
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
  });
}

export const TEST_OPTIONS: EngineOptions = {
  requestTimeoutMs: 5000,
  headersTimeoutMs: 5000,
  keepAliveTimeoutMs: 5000,
  maxConnections: 0,
  bodyLimit: 4096,
};

/** Listens on a free loopback port; the test's end destroys every connection and closes the server. */
export async function listen(t: TestContext, engine: Engine): Promise<number> {
  t.after(() => {
    engine.destroyAll();
    engine.server.close();
  });
  await new Promise<void>((resolve) => engine.server.listen(0, '127.0.0.1', resolve));
  return (engine.server.address() as net.AddressInfo).port;
}

/** A connection that reads responses as they come, for keep-alive and timing-free ordering tests. */
export class Client {
  readonly socket: net.Socket;
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (d: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
  }

  static connect(port: number): Promise<Client> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => resolve(new Client(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  send(data: string): void {
    this.socket.write(Buffer.from(data, 'latin1'));
  }

  /** Waits until `count` complete responses arrived (or the server closed), and takes them. */
  async responses(count: number, methods: readonly string[] = []): Promise<WireResponse[]> {
    for (;;) {
      const got = tryParse(this.buffer, methods);
      if (got !== null && got.responses.filter((r) => r.status >= 200).length >= count) {
        this.buffer = this.buffer.subarray(got.consumed);
        return got.responses;
      }
      if (this.closed) {
        const final = parseResponses(this.buffer, methods);
        this.buffer = Buffer.alloc(0);
        return final;
      }
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  /** Resolves when the server has closed the connection. */
  async closedByServer(): Promise<void> {
    while (!this.closed) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** Complete responses at the start of data, or null while a response is still partial. */
function tryParse(data: Buffer, methods: readonly string[]): { responses: WireResponse[]; consumed: number } | null {
  // Responses with Content-Length or chunked framing only; find the longest parseable prefix.
  for (let end = data.length; end > 0; end = data.lastIndexOf('HTTP/1.', end - 1, 'latin1')) {
    try {
      const responses = parseResponses(data.subarray(0, end), methods);
      const last = responses[responses.length - 1];
      if (last !== undefined && last.headers['content-length'] === undefined && last.headers['transfer-encoding'] === undefined && last.status >= 200 && last.body.length > 0) {
        continue; // close-delimited: not complete until the connection closes
      }
      return { responses, consumed: end };
    } catch {
      // a partial response at the end: try a shorter prefix
    }
    if (end <= 0) break;
  }
  return null;
}

/** Collects what the engine logs with console.error during a test (handler failures), instead of printing it. */
export function quietErrors(t: { after(fn: () => void): void }): string[] {
  const lines: string[] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void lines.push(args.join(' '));
  t.after(() => (console.error = original));
  return lines;
}
