// The herd experiment's two loads, driven from the lab's own process (the server's CPU is read from
// its own process tree, so the client's is not counted): one client making connections one after
// another, or bursts of simultaneous connects. Each connection sends one request with
// `Connection: close` and is timed from connect() to the first byte of the response.
import net from 'node:net';

export interface ConnectOutcome {
  /** Connections that got a response. */
  succeeded: number;
  failed: number;
  /** connect() to the first response byte, ms, one per succeeded connection. */
  firstByteMs: number[];
}

const REQUEST = 'GET / HTTP/1.1\r\nHost: lab\r\nConnection: close\r\n\r\n';
const CONNECTION_TIMEOUT_MS = 5000;

/** One connection, one request; resolves with its connect-to-first-byte time, or null if it failed. */
export function oneConnection(host: string, port: number, path = '/'): Promise<number | null> {
  return new Promise((resolve) => {
    const started = process.hrtime.bigint();
    let firstByte: number | null = null;
    let settled = false;
    const finish = (value: number | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(value);
    };
    const socket = net.connect({ host, port }, () => socket.write(path === '/' ? REQUEST : REQUEST.replace('GET / ', `GET ${path} `)));
    const timer = setTimeout(() => finish(null), CONNECTION_TIMEOUT_MS);
    socket.on('data', () => {
      if (firstByte === null) firstByte = Number(process.hrtime.bigint() - started) / 1e6;
    });
    socket.once('end', () => finish(firstByte));
    socket.once('error', () => finish(firstByte === null ? null : firstByte));
    socket.once('close', () => finish(firstByte));
  });
}

function collect(results: Array<number | null>, into: ConnectOutcome): void {
  for (const r of results) {
    if (r === null) into.failed++;
    else {
      into.succeeded++;
      into.firstByteMs.push(r);
    }
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `count` connections one after another. The short gap lets every worker go back to sleep in
 * epoll_wait before the next connect, as in the seed's demonstration (each connection then meets a
 * herd of sleepers, not a busy worker that happens to be awake).
 */
export async function sequentialConnections(host: string, port: number, count: number, gapMs = 2, signal?: AbortSignal): Promise<ConnectOutcome> {
  const out: ConnectOutcome = { succeeded: 0, failed: 0, firstByteMs: [] };
  for (let i = 0; i < count && !signal?.aborted; i++) {
    collect([await oneConnection(host, port)], out);
    await pause(gapMs);
  }
  return out;
}

/** `bursts` times: `size` connects at once, then wait for all and pause so the workers fall asleep. */
export async function connectBursts(host: string, port: number, bursts: number, size: number, pauseMs = 50, signal?: AbortSignal): Promise<ConnectOutcome> {
  const out: ConnectOutcome = { succeeded: 0, failed: 0, firstByteMs: [] };
  for (let b = 0; b < bursts && !signal?.aborted; b++) {
    const all: Array<Promise<number | null>> = [];
    for (let i = 0; i < size; i++) all.push(oneConnection(host, port));
    collect(await Promise.all(all), out);
    await pause(pauseMs);
  }
  return out;
}

/** The p-th percentile (0..100) of a list of numbers, by nearest rank; null for an empty list. */
export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1];
}
