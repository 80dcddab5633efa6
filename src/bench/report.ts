// What `herd bench` prints: the run's announcement, the progress line, and the summary in
// herd's own layout or in webbench's. Plain functions from data to text, off the hot path.
import { ERROR_KINDS } from './plan.ts';
import type { BenchProgress, ResolvedBench } from './options.ts';
import type { BenchResult } from './result.ts';

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function fixed(n: number, digits = 2): string {
  return n.toFixed(digits);
}

function bytesText(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB'];
  let unit = 0;
  while (n >= 1024 && unit < units.length - 1) {
    n /= 1024;
    unit++;
  }
  return `${unit === 0 ? n : n.toFixed(2)} ${units[unit]}`;
}

function runLength(run: ResolvedBench, unitSec: string): string {
  return run.requests > 0 ? plural(run.requests, 'request') : `${run.durationSec} ${unitSec}`;
}

/** The line printed before the run starts, in webbench's words. */
export function webbenchHeader(run: ResolvedBench): string {
  const version = run.http === '1.0' ? '' : ` (using HTTP/${run.http})`;
  let line = `${plural(run.connections, 'client')}, running ${runLength(run, 'sec')}`;
  if (run.force) line += ', early socket close';
  if (run.proxy) line += `, via proxy server ${run.proxy}`;
  if (run.reload) line += ', forcing reload';
  return `herd bench, webbench-compatible output\n\nBenchmarking: ${run.method} ${run.url}${version}\n${line}.\n`;
}

/**
 * webbench's summary, line for line. Like webbench, Speed counts every finished request,
 * failed ones included, per minute of the run; bytes/sec is every byte read per second.
 */
export function webbenchSummary(result: BenchResult): string {
  const { succeeded, failed } = result.requests;
  const minutes = result.durationSec / 60;
  const speed = minutes > 0 ? Math.trunc((succeeded + failed) / minutes) : 0;
  const bytesPerSec = result.durationSec > 0 ? Math.trunc(result.bytesTotal / result.durationSec) : 0;
  return `\nSpeed=${speed} pages/min, ${bytesPerSec} bytes/sec.\nRequests: ${succeeded} susceed, ${failed} failed.\n`;
}

export function humanHeader(run: ResolvedBench): string {
  const mode = run.http2
    ? `HTTP/2, ${plural(run.http2.streams, 'stream')} per connection`
    : run.force ? 'no reply awaited' : run.keepAlive ? `keep-alive${run.pipeline > 1 ? `, pipeline ${run.pipeline}` : ''}` : 'new connection per request';
  const tls = run.tls ? `, TLS${run.tls.resume ? ' with session resumption' : ', full handshake per connection'}` : '';
  const extras = [
    run.rate > 0 ? `at ${run.rate} requests/s` : '',
    run.warmupSec > 0 ? `after ${run.warmupSec} s warm-up` : '',
    run.proxy ? `via proxy ${run.proxy}` : '',
  ].filter(Boolean);
  return (
    `Benchmarking ${run.method} ${run.url} (${run.http2 ? mode : `HTTP/${run.http}, ${mode}`}${tls})\n` +
    `${plural(run.connections, 'connection')}, ${plural(run.threads, 'thread')}, ${runLength(run, 's')}${extras.length ? ', ' + extras.join(', ') : ''}\n`
  );
}

export function progressLine(p: BenchProgress): string {
  const rps = p.elapsedSec > 0 ? p.succeeded / p.elapsedSec : 0;
  return `  ${fixed(p.elapsedSec, 0)} s: ${p.succeeded} succeeded, ${p.failed} failed, ${fixed(rps, 0)} requests/s`;
}

export function humanSummary(result: BenchResult): string {
  const l = result.latencyMs;
  const codes = Object.entries(result.statusCodes).map(([code, n]) => `${code}: ${n}`);
  const errors = ERROR_KINDS.filter((kind) => result.errors[kind] > 0).map((kind) => `${kind.replace('_', ' ')} ${result.errors[kind]}`);
  const lines = [
    '',
    `  Requests    ${result.requests.succeeded} succeeded, ${result.requests.failed} failed in ${fixed(result.durationSec)} s`,
    `  Throughput  ${fixed(result.rps)} requests/s, ${Math.round(result.pagesPerMin)} pages/min`,
    `  Transfer    ${bytesText(result.bytesPerSec)}/s, ${bytesText(result.bytesTotal)} in all`,
    `  Latency     p50 ${fixed(l.p50)} ms, p90 ${fixed(l.p90)} ms, p99 ${fixed(l.p99)} ms, p99.9 ${fixed(l.p999)} ms, max ${fixed(l.max)} ms (mean ${fixed(l.mean)} ms)`,
    `  Status      ${codes.length ? codes.join(', ') : 'none'}`,
    `  Errors      ${errors.length ? errors.join(', ') : 'none'}`,
  ];
  return lines.join('\n') + '\n';
}
