// One log file owned by logd: appends batches with writev, one write at a time, in order; rotates
// and reopens between writes. A slow disk stalls logd itself, as it stalls an nginx worker writing
// its log: the clients, which never wait for logd, then hold their records and past their bound
// drop and count them.
import fs from 'node:fs';
import path from 'node:path';
import { HerdError } from '../errors.ts';
import { MAX_LINE_BYTES } from './protocol.ts';

/** '-' is the process's stdout, as in herd's --access-log and --error-log flags. */
export const STDOUT_PATH = '-';

/** Squid's default number of rotated files kept. */
export const DEFAULT_ROTATE_COUNT = 10;

export interface WriteListener {
  /** The batch is about to be written at byte offset `fileStart` of the file with inode `ino` (0: not a regular file). */
  started(fileStart: number, ino: number): void;
  /** Every byte of the batch is in the file (in the kernel: it survives the death of this process). */
  done(): void;
}

type Operation =
  | { kind: 'write'; buffers: Buffer[]; listener: WriteListener }
  | { kind: 'rotate'; count: number }
  | { kind: 'reopen' }
  | { kind: 'close'; resolve: () => void };

/** A failing disk (ENOSPC, EIO) is retried this often: logging resumes within this of space returning. */
const RETRY_MS = 250;
const EAGAIN_RETRY_MS = 10;

/** A batch whose write failed, waiting for its retry (or for a reopen, which retries it at once). */
interface FailingWrite {
  /** The whole batch: it is written again from its first byte. */
  readonly buffers: Buffer[];
  readonly listener: WriteListener;
  readonly done: () => void;
  timer: NodeJS.Timeout;
}

export class LogFile {
  readonly path: string;
  rotateCount = DEFAULT_ROTATE_COUNT;
  private fd: number;
  /** Inode of the open file; 0 when it is not a regular file (stdout, a pipe, /dev/null). */
  private inode = 0;
  /** Where the next byte lands: we are the file's only writer and it is opened O_APPEND. */
  private end = 0;
  private readonly queue: Operation[] = [];
  private busy = false;
  private queuedBytes = 0;
  private idleWaiters: Array<() => void> = [];
  private lastErrorReport = '';
  private failing: FailingWrite | undefined;

  private constructor(filePath: string, fd: number) {
    this.path = filePath;
    this.fd = fd;
    this.readPosition();
  }

  /**
   * Opens (creating) the file for appending. With `repairTail`, a last line cut by the death of the
   * previous daemon in the middle of a write is removed first, so that no line is ever cut and the
   * writers can resend it whole.
   */
  static open(filePath: string, options: { repairTail: boolean } = { repairTail: false }): LogFile {
    if (filePath === STDOUT_PATH) return new LogFile(filePath, 1);
    let fd: number;
    try {
      // a+ (read and append) only to read back the last line for the repair
      fd = fs.openSync(filePath, options.repairTail ? 'a+' : 'a', 0o644);
    } catch (err) {
      throw new HerdError(`cannot open log file ${filePath}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, 'ELOGFILE');
    }
    if (options.repairTail) cutPartialLastLine(fd);
    return new LogFile(filePath, fd);
  }

  ino(): number {
    return this.inode;
  }

  size(): number {
    return this.end;
  }

  /** Bytes queued and not yet written: the measure logd uses to stop reading from its clients. */
  backlog(): number {
    return this.queuedBytes;
  }

  idle(): boolean {
    return !this.busy && this.queue.length === 0;
  }

  write(buffers: Buffer[], listener: WriteListener): void {
    for (const b of buffers) this.queuedBytes += b.length;
    this.enqueue({ kind: 'write', buffers, listener });
  }

  /** squid's R: after the writes queued so far, PATH.<n-2>→PATH.<n-1> … PATH→PATH.0, then a new PATH. */
  rotate(): void {
    // The count in force when R was read, even if an r later on the same stream is read before the rotation runs.
    this.enqueue({ kind: 'rotate', count: this.rotateCount });
  }

  /**
   * After the writes queued so far, close and open PATH again (logrotate renamed it, then signalled).
   * A write that is failing (a full disk) does not hold the reopen back: the operator's way out of a
   * full disk is to remove the log and signal, and the deleted file's space is only freed once it is
   * closed. The failing batch is then written to the new file.
   */
  reopen(): void {
    const failing = this.failing;
    if (failing === undefined) {
      this.enqueue({ kind: 'reopen' });
      return;
    }
    clearTimeout(failing.timer);
    this.failing = undefined;
    try {
      this.closeFd();
      this.openFd();
    } catch (err) {
      this.report(`cannot reopen ${this.path}: ${(err as Error).message}`);
    }
    this.writeBatch(failing.buffers, failing.listener, failing.done);
  }

  whenIdle(): Promise<void> {
    if (this.idle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Writes what is queued, then closes. */
  close(): Promise<void> {
    return new Promise((resolve) => this.enqueue({ kind: 'close', resolve }));
  }

  private enqueue(op: Operation): void {
    this.queue.push(op);
    if (!this.busy) this.next();
  }

  private next(): void {
    const op = this.queue.shift();
    if (op === undefined) {
      this.busy = false;
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
      return;
    }
    this.busy = true;
    switch (op.kind) {
      case 'write':
        this.writeBatch(op.buffers, op.listener, () => {
          op.listener.done();
          this.next();
        });
        return;
      case 'rotate':
        this.runSync(() => {
          this.closeFd();
          rotateFiles(this.path, op.count);
          this.openFd();
        });
        return;
      case 'reopen':
        this.runSync(() => {
          this.closeFd();
          this.openFd();
        });
        return;
      case 'close':
        this.closeFd();
        op.resolve();
        this.next();
        return;
    }
  }

  private runSync(step: () => void): void {
    try {
      step();
    } catch (err) {
      this.report(`cannot rotate or reopen ${this.path}: ${(err as Error).message}`);
    }
    this.next();
  }

  /**
   * writev until every byte of the batch is written; a failing disk is retried, never skipped
   * (writers hold back meanwhile, and past their bound drop and count). A write cut short by a full
   * disk is cut back to the batch's first byte, so the file never ends in half a record, and the
   * whole batch is written again (announced again, at the same place or in a reopened file).
   * Synchronous: logd does nothing but write, a page-cache write is a few microseconds, and a
   * handoff to the thread pool and back cost more CPU than the write itself (bench:logd).
   */
  private writeBatch(batch: Buffer[], listener: WriteListener, done: () => void): void {
    const fileStart = this.end;
    listener.started(fileStart, this.inode);
    let buffers = batch;
    for (;;) {
      const total = buffers.reduce((n, b) => n + b.length, 0);
      if (total === 0) {
        this.lastErrorReport = '';
        return done();
      }
      let written: number;
      try {
        written = fs.writevSync(this.fd, buffers);
      } catch (error) {
        const err = error as NodeJS.ErrnoException;
        if (err.code === 'EAGAIN' || (this.inode === 0 && this.end > fileStart)) {
          // A pipe (stdout) that is full, or failed after part of the batch: what is in it cannot be
          // taken back, so the rest follows.
          const rest = buffers;
          if (err.code !== 'EAGAIN') this.report(`write to ${this.path} failed (${err.code ?? err.message}); retrying every ${RETRY_MS / 1000} s`);
          setTimeout(() => this.writeRest(rest, done), err.code === 'EAGAIN' ? EAGAIN_RETRY_MS : RETRY_MS);
          return;
        }
        this.cutBackTo(fileStart);
        this.report(`write to ${this.path} failed (${err.code ?? err.message}); retrying every ${RETRY_MS / 1000} s, or at once after a reopen (USR1)`);
        const failing: FailingWrite = { buffers: batch, listener, done, timer: setTimeout(() => this.retry(failing), RETRY_MS) };
        this.failing = failing;
        return;
      }
      this.end += written;
      this.queuedBytes -= written;
      if (written === total) {
        this.lastErrorReport = '';
        return done();
      }
      buffers = dropFront(buffers, written);
    }
  }

  private retry(failing: FailingWrite): void {
    if (this.failing !== failing) return;
    this.failing = undefined;
    this.writeBatch(failing.buffers, failing.listener, failing.done);
  }

  /** After EAGAIN on a pipe: the rest of a batch already begun. */
  private writeRest(buffers: Buffer[], done: () => void): void {
    for (;;) {
      const total = buffers.reduce((n, b) => n + b.length, 0);
      if (total === 0) return done();
      let written: number;
      try {
        written = fs.writevSync(this.fd, buffers);
      } catch (error) {
        const again = (error as NodeJS.ErrnoException).code === 'EAGAIN';
        if (!again) this.report(`write to ${this.path} failed (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); retrying every ${RETRY_MS / 1000} s`);
        setTimeout(() => this.writeRest(buffers, done), again ? EAGAIN_RETRY_MS : RETRY_MS);
        return;
      }
      this.end += written;
      this.queuedBytes -= written;
      if (written === total) return done();
      buffers = dropFront(buffers, written);
    }
  }

  /** Removes what a failed batch wrote of itself (a regular file only; a pipe cannot take it back). */
  private cutBackTo(fileStart: number): void {
    const partial = this.end - fileStart;
    if (partial <= 0 || this.inode === 0) return;
    try {
      fs.ftruncateSync(this.fd, fileStart);
      this.end = fileStart;
      this.queuedBytes += partial;
    } catch (err) {
      this.report(`cannot cut the partial record off ${this.path}: ${(err as Error).message}`);
    }
  }

  private report(message: string): void {
    if (message === this.lastErrorReport) return; // one line per distinct failure, not one per retry
    this.lastErrorReport = message;
    process.stderr.write(`herd logd: ${message}\n`);
  }

  private closeFd(): void {
    if (this.path === STDOUT_PATH) return;
    fs.closeSync(this.fd);
  }

  private openFd(): void {
    if (this.path === STDOUT_PATH) return;
    this.fd = fs.openSync(this.path, 'a', 0o644);
    this.readPosition();
  }

  private readPosition(): void {
    const st = fs.fstatSync(this.fd);
    this.inode = st.isFile() ? st.ino : 0;
    this.end = st.isFile() ? st.size : 0;
  }
}

/** The rest of `buffers` after its first `count` bytes. */
function dropFront(buffers: Buffer[], count: number): Buffer[] {
  const rest: Buffer[] = [];
  for (const b of buffers) {
    if (count >= b.length) {
      count -= b.length;
      continue;
    }
    rest.push(count > 0 ? b.subarray(count) : b);
    count = 0;
  }
  return rest;
}

/** squid's rotate(): only a regular file rotates; a missing PATH.<i> is not an error. */
export function rotateFiles(filePath: string, count: number): void {
  let st: fs.Stats;
  try {
    st = fs.statSync(filePath);
    if (!st.isFile()) return;
  } catch {
    // squid rotates when stat fails too (the renames then find nothing)
  }
  for (let i = count - 1; i >= 1; i--) renameIfExists(`${filePath}.${i - 1}`, `${filePath}.${i}`);
  if (count > 0) renameIfExists(filePath, `${filePath}.0`);
}

function renameIfExists(from: string, to: string): void {
  try {
    fs.renameSync(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      process.stderr.write(`herd logd: rename ${path.basename(from)} to ${path.basename(to)} failed: ${(err as Error).message}\n`);
    }
  }
}

/** Truncates a regular file after its last newline, when its last line has no newline (a cut write). */
function cutPartialLastLine(fd: number): void {
  const st = fs.fstatSync(fd);
  if (!st.isFile() || st.size === 0) return;
  const tailLength = Math.min(st.size, MAX_LINE_BYTES + 1);
  const tail = Buffer.allocUnsafe(tailLength);
  fs.readSync(fd, tail, 0, tailLength, st.size - tailLength);
  if (tail[tailLength - 1] === 0x0a) return;
  const lastNewline = tail.lastIndexOf(0x0a);
  if (lastNewline === -1 && tailLength < st.size) return; // not a file of protocol lines; leave it alone
  fs.ftruncateSync(fd, st.size - tailLength + lastNewline + 1);
}
