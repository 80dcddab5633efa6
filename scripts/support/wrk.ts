// Runs wrk (Debian's package) and reads its summary. Benchmarks only; never in `npm test`.
import { execFile, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PIPELINE_SCRIPT = fileURLToPath(new URL('./wrk_pipeline.lua', import.meta.url));

export interface WrkResult {
  requests: number;
  rps: number;
  /** Socket errors plus non-2xx/3xx responses. */
  errors: number;
  latencyP99Ms: number | null;
}

export function requireWrk(): void {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'ignore' });
  } catch (err) {
    // wrk --version exits 1 even when present; only a missing binary is an error.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      console.error('wrk is not installed: apt-get install wrk (Debian) — this benchmark needs it');
      process.exit(1);
    }
  }
}

export interface WrkOptions {
  seconds: number;
  connections: number;
  threads?: number;
  close?: boolean;
  /** Requests per write, pipelined (wrk_pipeline.lua); absent: one at a time. */
  pipeline?: number;
}

export function runWrk(url: string, opts: WrkOptions): Promise<WrkResult> {
  const args = ['-t', String(opts.threads ?? 1), '-c', String(opts.connections), '-d', `${opts.seconds}s`, '--latency'];
  if (opts.close) args.push('-H', 'Connection: close');
  if (opts.pipeline !== undefined) args.push('-s', PIPELINE_SCRIPT);
  args.push(url);
  if (opts.pipeline !== undefined) args.push('--', String(opts.pipeline));
  return new Promise((resolve, reject) => {
    execFile('wrk', args, { timeout: (opts.seconds + 30) * 1000 }, (err, stdout) => {
      if (err) return reject(new Error(`wrk failed: ${err.message}\n${stdout}`));
      resolve(parseWrk(stdout));
    });
  });
}

export function parseWrk(text: string): WrkResult {
  const requests = Number(/(\d+) requests in/.exec(text)?.[1] ?? NaN);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(text)?.[1] ?? NaN);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = Number(/Non-2xx or 3xx responses: (\d+)/.exec(text)?.[1] ?? 0);
  const errors = non2xx + (socket ? socket.slice(1).reduce((s, n) => s + Number(n), 0) : 0);
  const p99 = /\s99%\s+([\d.]+)(us|ms|s)/.exec(text);
  const scale = { us: 0.001, ms: 1, s: 1000 } as const;
  const latencyP99Ms = p99 ? Number(p99[1]) * scale[p99[2] as keyof typeof scale] : null;
  if (!Number.isFinite(requests) || !Number.isFinite(rps)) throw new Error(`cannot read wrk output:\n${text}`);
  return { requests, rps, errors, latencyP99Ms };
}
