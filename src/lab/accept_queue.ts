// Accept-queue depth of a listening port, sampled while a cell runs. For a socket in LISTEN state
// /proc/net/tcp{,6} shows in rx_queue the connections that finished the handshake and wait for
// accept() (sk_ack_backlog) — the Recv-Q of `ss -ltn`. With reuseport there is one socket per worker.
import fs from 'node:fs';

const TCP_LISTEN = 0x0a;

export interface TcpTableRow {
  localPort: number;
  /** Kernel TCP state number (0x0a is LISTEN). */
  state: number;
  txQueue: number;
  rxQueue: number;
}

/** Parses the rows of /proc/net/tcp or /proc/net/tcp6 (the header line is skipped). */
export function parseTcpTable(text: string): TcpTableRow[] {
  const rows: TcpTableRow[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // sl local_address rem_address st tx_queue:rx_queue ...
    if (f.length < 5 || !f[0].endsWith(':') || f[0] === 'sl') continue;
    const local = f[1];
    const queues = f[4].split(':');
    rows.push({
      localPort: parseInt(local.slice(local.lastIndexOf(':') + 1), 16),
      state: parseInt(f[3], 16),
      txQueue: parseInt(queues[0], 16),
      rxQueue: parseInt(queues[1], 16),
    });
  }
  return rows;
}

/** Accept-queue lengths of every LISTEN socket on `port` in the rows given. */
export function listenQueueLengths(rows: TcpTableRow[], port: number): number[] {
  return rows.filter((r) => r.state === TCP_LISTEN && r.localPort === port).map((r) => r.rxQueue);
}

const chunk = Buffer.allocUnsafe(64 * 1024);

/**
 * The LISTEN rows of a /proc/net/tcp file. The kernel lists listening sockets before established and
 * TIME_WAIT ones, so reading stops at the first other state: with tens of thousands of connections
 * open this reads a few KiB instead of megabytes, which keeps the sampler off the CPU it measures.
 */
export function readListenRows(path: string): TcpTableRow[] {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch {
    return []; // no IPv6 on this machine
  }
  try {
    let text = '';
    for (;;) {
      const n = fs.readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      text += chunk.toString('latin1', 0, n);
      const complete = text.slice(0, text.lastIndexOf('\n') + 1);
      const rows = parseTcpTable(complete);
      if (rows.some((r) => r.state !== TCP_LISTEN)) return rows.filter((r) => r.state === TCP_LISTEN);
    }
    return parseTcpTable(text).filter((r) => r.state === TCP_LISTEN);
  } finally {
    fs.closeSync(fd);
  }
}

export interface AcceptQueueStats {
  samples: number;
  /** Deepest accept queue seen (summed over the port's listening sockets). */
  max: number;
  mean: number;
}

/** Samples the accept-queue depth of `port` every `intervalMs` until stopped. */
export class AcceptQueueSampler {
  readonly #port: number;
  readonly #timer: NodeJS.Timeout;
  #samples = 0;
  #sum = 0;
  #max = 0;

  constructor(port: number, intervalMs = 100) {
    this.#port = port;
    this.#sample();
    this.#timer = setInterval(() => this.#sample(), intervalMs);
  }

  #sample(): void {
    const rows = [...readListenRows('/proc/net/tcp'), ...readListenRows('/proc/net/tcp6')];
    const depth = listenQueueLengths(rows, this.#port).reduce((a, b) => a + b, 0);
    this.#samples++;
    this.#sum += depth;
    if (depth > this.#max) this.#max = depth;
  }

  stop(): AcceptQueueStats {
    clearInterval(this.#timer);
    this.#sample();
    return { samples: this.#samples, max: this.#max, mean: this.#sum / this.#samples };
  }
}
