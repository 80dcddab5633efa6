// squid's logfile-daemon line protocol: what a writer sends to the process that owns a log file.
//
// Matched against squid's src/log/file/log_file_daemon.cc (squid 6): the daemon reads stdin with
// fgets(buf, 65536) and switches on the first byte of each line:
//   L<text>\n  writes <text>\n (everything after the L, newline included); "L" alone writes nothing
//   R\n        closes the file, rotates it (PATH.0 … PATH.<n-1>), reopens PATH; the rest of the line is ignored
//   r<n>\n     sets the rotate count to atoi(<n>) (default 10; 0 or less: R just reopens)
//   b<0|1>\n   buffered output on when the byte after b is '1', off for anything else
//   F\n        flushes;  T\n and O\n are accepted and do nothing
//   anything else (an empty line too) is written to the file whole, first byte included.
// Two consequences of fgets + fprintf("%s") that this parser reproduces, so a file written by herd
// is byte for byte the one squid's daemon writes:
//   - a line longer than 65535 bytes arrives as several pieces of at most 65535 bytes, and each
//     piece is dispatched on its own first byte;
//   - what is written stops at the first NUL byte of the line (the newline after it is lost too).
//   - a last line without a newline at end of input is still processed.

import type { ByteBatch } from './byte_batch.ts';

/** fgets(buf, 65536): at most 65535 bytes per line, newline included. */
export const MAX_LINE_BYTES = 65535;

export type ControlCommand =
  | { kind: 'rotate' }
  | { kind: 'rotateCount'; count: number }
  | { kind: 'buffered'; on: boolean }
  | { kind: 'flush' }
  | { kind: 'truncate' }
  | { kind: 'reopen' };

/** Where a parser delivers what it read. */
export interface ProtocolSink {
  /** Bytes for the file: an L line's text (newline included when it had one) or an unknown line whole. */
  data(source: Buffer, start: number, end: number): void;
  command(command: ControlCommand): void;
  /**
   * Where data() would append, when it only appends: the common input, a run of whole L lines, then
   * goes there in one pass over the bytes instead of a call per line.
   */
  readonly lines?: ByteBatch;
}

const NEWLINE = 0x0a;
const NUL = 0;
const L = 0x4c;

/**
 * Incremental parser: push() every chunk as it is read (lines may be split anywhere), end() at end of input.
 * The sink sees each line once, in order. Allocation: one 64 KiB scratch buffer, made the first time a
 * line is split across chunks; whole lines are handed out as views of the chunk they came in.
 */
export class ProtocolParser {
  private readonly sink: ProtocolSink;
  private partial: Buffer | undefined;
  private partialLength = 0;
  /** Input bytes dispatched so far (complete lines only): the position an acknowledgement refers to. */
  consumed = 0;

  constructor(sink: ProtocolSink) {
    this.sink = sink;
  }

  /** `length`: how much of chunk holds input (a reused read buffer is longer than one read). */
  push(chunk: Buffer, length = chunk.length): void {
    if (length < chunk.length) chunk = chunk.subarray(0, length);
    let pos = 0;
    // One scan per chunk: with no NUL anywhere (the normal case) no line needs the per-line NUL check.
    const hasNul = chunk.indexOf(NUL) !== -1;
    if (this.partialLength > 0) pos = this.continuePartial(chunk);
    const lines = hasNul ? undefined : this.sink.lines;
    while (pos < length) {
      if (lines !== undefined && chunk[pos] === L) {
        const stop = copyLineTexts(chunk, pos, length, lines);
        this.consumed += stop - pos;
        pos = stop;
        if (pos === length) return;
        // What stopped the run (another command, a line cut by the chunk's end or too long) goes below.
      }
      // A byte loop, not indexOf: lines are short (an access-log line is ~100 bytes), and a native
      // call per line costs more than the scan.
      let newline = pos;
      while (newline < length && chunk[newline] !== NEWLINE) newline++;
      if (newline === length) newline = -1;
      const lineEnd = newline === -1 ? length : newline + 1;
      if (lineEnd - pos > MAX_LINE_BYTES) {
        this.dispatch(chunk, pos, pos + MAX_LINE_BYTES, hasNul);
        pos += MAX_LINE_BYTES;
        continue;
      }
      if (newline === -1) {
        this.keepPartial(chunk, pos, length);
        return;
      }
      this.dispatch(chunk, pos, lineEnd, hasNul);
      pos = lineEnd;
    }
  }

  /** End of input: a last line without its newline is processed as fgets would return it. */
  end(): void {
    if (this.partialLength === 0) return;
    const line = this.partial!;
    const length = this.partialLength;
    this.partialLength = 0;
    this.dispatch(line, 0, length, true);
  }

  private continuePartial(chunk: Buffer): number {
    const room = MAX_LINE_BYTES - this.partialLength;
    const newline = chunk.indexOf(NEWLINE);
    const take = newline === -1 || newline + 1 > room ? Math.min(room, chunk.length) : newline + 1;
    chunk.copy(this.partial!, this.partialLength, 0, take);
    this.partialLength += take;
    const complete = this.partialLength === MAX_LINE_BYTES || (newline !== -1 && newline + 1 === take);
    if (complete) {
      const length = this.partialLength;
      this.partialLength = 0;
      this.dispatch(this.partial!, 0, length, true);
    }
    return take;
  }

  private keepPartial(chunk: Buffer, start: number, end: number): void {
    this.partial ??= Buffer.allocUnsafe(MAX_LINE_BYTES);
    chunk.copy(this.partial, 0, start, end);
    this.partialLength = end - start;
  }

  private dispatch(line: Buffer, start: number, end: number, mayHaveNul: boolean): void {
    this.consumed += end - start;
    const sink = this.sink;
    switch (line[start]) {
      case 0x4c: // L
        this.write(line, start + 1, end, mayHaveNul);
        return;
      case 0x52: // R
        sink.command({ kind: 'rotate' });
        return;
      case 0x72: // r
        sink.command({ kind: 'rotateCount', count: atoi(line, start + 1, end) });
        return;
      case 0x62: // b
        sink.command({ kind: 'buffered', on: start + 1 < end && line[start + 1] === 0x31 });
        return;
      case 0x46: // F
        sink.command({ kind: 'flush' });
        return;
      case 0x54: // T
        sink.command({ kind: 'truncate' });
        return;
      case 0x4f: // O
        sink.command({ kind: 'reopen' });
        return;
      default:
        this.write(line, start, end, mayHaveNul);
    }
  }

  private write(line: Buffer, start: number, end: number, mayHaveNul: boolean): void {
    if (mayHaveNul) {
      const nul = line.indexOf(NUL, start);
      if (nul !== -1 && nul < end) end = nul;
    }
    if (end > start) this.sink.data(line, start, end);
  }
}

/**
 * Appends the text (newline included) of each whole L line of source[start, end) to `batch`, in one
 * pass that scans and copies together. Stops at the first line that is not an L line, has no
 * newline before `end`, or is longer than MAX_LINE_BYTES; returns where it stopped.
 */
function copyLineTexts(source: Buffer, start: number, end: number, batch: ByteBatch): number {
  const out = batch.reserve(end - start);
  let j = batch.length;
  let done = start;
  let doneOut = j;
  while (done < end && source[done] === L) {
    const limit = Math.min(end, done + MAX_LINE_BYTES);
    let i = done + 1;
    while (i < limit && source[i] !== NEWLINE) out[j++] = source[i++];
    if (i === limit) break;
    out[j++] = NEWLINE;
    done = i + 1;
    doneOut = j;
  }
  batch.length = doneOut;
  return done;
}

/** C's atoi: leading whitespace, an optional sign, digits up to the first non-digit; 0 when there are none. */
export function atoi(buf: Buffer, start: number, end: number): number {
  let pos = start;
  while (pos < end && (buf[pos] === 0x20 || (buf[pos]! >= 0x09 && buf[pos]! <= 0x0d))) pos++;
  let sign = 1;
  if (pos < end && (buf[pos] === 0x2d || buf[pos] === 0x2b)) {
    if (buf[pos] === 0x2d) sign = -1;
    pos++;
  }
  let value = 0;
  while (pos < end && buf[pos]! >= 0x30 && buf[pos]! <= 0x39) {
    value = value * 10 + (buf[pos]! - 0x30);
    pos++;
  }
  return sign * value;
}

// Encoders, for whoever writes to a daemon (herd's workers and supervisor, or a test).

/** One log line as an L command. A newline inside the text would end the command early, so it is escaped. */
export function encodeLine(text: string): string {
  if (text.includes('\n') || text.includes('\r')) text = text.replace(/\r/g, '\\r').replace(/\n/g, '\\n');
  return `L${text}\n`;
}

export const ROTATE = 'R\n';
export const FLUSH = 'F\n';

export function encodeRotateCount(count: number): string {
  return `r${Math.trunc(count)}\n`;
}

export function encodeBuffered(on: boolean): string {
  return on ? 'b1\n' : 'b0\n';
}
