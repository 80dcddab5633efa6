// Minimal raw HTTP clients for integration tests: one request per connection, and load loops.
import net from 'node:net';

export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** One request on a new connection (Connection: close); rejects on a network error or a timeout. */
export function request(url: string, path = '/', timeoutMs = 10_000, extraHead = ''): Promise<Reply> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    socket.once('connect', () => socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\nConnection: close\r\n${extraHead}\r\n`));
    socket.on('data', (d) => chunks.push(d));
    socket.once('error', reject);
    socket.once('close', (hadError) => {
      if (hadError) return;
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      if (split < 0) return reject(new Error(`incomplete response: ${JSON.stringify(text)}`));
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      let body = text.slice(split + 4);
      if (headers['content-length'] !== undefined && body.length !== Number(headers['content-length'])) {
        return reject(new Error(`truncated body: ${body.length} of ${headers['content-length']} bytes`));
      }
      if (headers['transfer-encoding'] === 'chunked') body = dechunk(body);
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
  });
}

function dechunk(body: string): string {
  let out = '';
  let i = 0;
  while (i < body.length) {
    const eol = body.indexOf('\r\n', i);
    const size = parseInt(body.slice(i, eol), 16);
    if (!size) break;
    out += body.slice(eol + 2, eol + 2 + size);
    i = eol + 2 + size + 2;
  }
  return out;
}

export interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  bodies: Map<string, number>;
}

/**
 * `concurrency` loops, each sending requests one after another on new connections, until
 * `stop()` is called. Counts successes (status 200) and failures with their reasons.
 */
export function loadLoop(url: string, concurrency: number, path = '/'): { stop(): Promise<LoadResult>; result: LoadResult } {
  const result: LoadResult = { ok: 0, failed: 0, errors: [], bodies: new Map() };
  let running = true;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      try {
        const reply = await request(url, path);
        if (reply.status === 200) {
          result.ok++;
          result.bodies.set(reply.body, (result.bodies.get(reply.body) ?? 0) + 1);
        } else {
          result.failed++;
          result.errors.push(`status ${reply.status}`);
        }
      } catch (err) {
        result.failed++;
        result.errors.push((err as Error).message);
      }
    }
  });
  return {
    result,
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` returns true, polling; throws after timeoutMs. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}
