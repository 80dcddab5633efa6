// logd: the process that owns the log files. Any number of clients (workers, tests, anything that
// speaks squid's logfile-daemon protocol) connect to its unix socket; each stream is parsed on its
// own, so a client that sends half a line and stalls holds up nobody. Lines read from all streams
// are gathered per stream and written with one writev per file at a time: while a write blocks,
// input waits in the sockets and the next batch is bigger, so batches grow exactly when the disk is
// slow. A stream whose unwritten bytes pass a bound (a failing disk, retried) is paused, so the disk
// pushes back on the clients (whose bounded buffers then drop and count) instead of growing logd
// without limit.
import fs from 'node:fs';
import net from 'node:net';
import { acceptHandles, attachHandle, closeHandle, pauseReading, resumeReading, writeBuffer, type HandleOwner, type StreamHandle } from '../uv/stream_handle.ts';
import { requireStreamBinding } from '../uv/binding.ts';
import { ByteBatch } from './byte_batch.ts';
import { LogFile } from './log_file.ts';
import { ProtocolParser, type ControlCommand, type ProtocolSink } from './protocol.ts';
import { encodeAck, encodeAnnounce, encodeGreeting, horizons, type EpochStart } from './receipts.ts';

export interface DaemonConfig {
  /** null: access logging off (lines are read and discarded). '-': stdout. */
  accessLog: string | null;
  /** '-': stdout. */
  errorLog: string;
  socketPath: string;
  /** 0 for the first daemon, +1 each time the supervisor respawns it. */
  epoch: number;
  /** How earlier daemons found the access log when they started (kept by the supervisor). */
  starts: EpochStart[];
}

/** Unwritten bytes of one stream above which logd stops reading it until its batch is written. */
const STREAM_HIGH_WATER = 1024 * 1024;

const DISCARD_PATH = '/dev/null';

export class LogDaemonProcess {
  private readonly config: DaemonConfig;
  private readonly access: LogFile;
  private readonly error: LogFile;
  private readonly startInfo: EpochStart;
  private readonly server: net.Server;
  private readonly streams = new Set<ClientStream>();
  private readonly errorLines = new ByteBatch();
  private flushScheduled = false;
  private stopping: Promise<void> | undefined;

  private constructor(config: DaemonConfig) {
    this.config = config;
    // A respawned daemon may find a line its predecessor was cut off writing: remove it, the client resends it.
    this.access = LogFile.open(config.accessLog ?? DISCARD_PATH, { repairTail: config.epoch > 0 });
    this.error = config.errorLog === config.accessLog ? this.access : LogFile.open(config.errorLog);
    this.startInfo = { epoch: config.epoch, ino: this.access.ino(), size: this.access.size() };
    // Clients are read on bare handles into one reused buffer, as the fast engine reads: a Buffer
    // allocated per read, and the stream machinery around it, cost logd more than its parsing.
    this.server = net.createServer();
  }

  /** Opens the files and listens; throws HerdError when a file cannot be opened. */
  static async start(config: DaemonConfig): Promise<LogDaemonProcess> {
    requireStreamBinding('logd', '--access-log off and --error-log -');
    const daemon = new LogDaemonProcess(config);
    await daemon.listen();
    return daemon;
  }

  /** The access log as this daemon found it: the horizon of every earlier daemon's writes. */
  start(): EpochStart {
    return this.startInfo;
  }

  /** Appends a line to the error log (supervisor events). */
  errorLine(line: string): void {
    this.errorLines.appendString(`${line.replace(/\n/g, '\\n')}\n`);
    this.scheduleFlush();
  }

  /** logrotate's rename-then-signal: everything read so far goes to the old file, the rest to a new one. */
  reopen(): void {
    this.flushNow();
    this.access.reopen();
    if (this.error !== this.access) this.error.reopen();
  }

  /** Stops accepting, writes everything already read, closes the files. Clients should flush first: what is still in a socket is not read. */
  stop(): Promise<void> {
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private async shutdown(): Promise<void> {
    this.server.close();
    for (const s of this.streams) s.close();
    this.flushNow();
    await this.access.close();
    if (this.error !== this.access) await this.error.close();
    try {
      fs.unlinkSync(this.config.socketPath);
    } catch {
      // already gone
    }
  }

  private listen(): Promise<void> {
    // A daemon killed with -9 leaves its socket file behind; the respawned one takes the path over.
    try {
      fs.unlinkSync(this.config.socketPath);
    } catch {
      // nothing to remove
    }
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.config.socketPath, () => {
        this.server.off('error', reject);
        // Only this user's workers may hand logd records (the directory is private by default too).
        fs.chmodSync(this.config.socketPath, 0o600);
        acceptHandles(this.server, (handle) => this.accept(handle));
        resolve();
      });
    });
  }

  private accept(handle: StreamHandle): void {
    if (this.stopping) return void closeHandle(handle);
    const stream = new ClientStream(handle, this);
    this.streams.add(stream);
    stream.send(encodeGreeting(this.config.epoch, horizons(this.config.epoch, [...this.config.starts, this.startInfo])));
    if (attachHandle(handle, stream) < 0) stream.onFailure();
  }

  /** A stream's lines arrived: written at the end of this turn of the loop, with every other stream's. */
  received(stream: ClientStream): void {
    if (stream.batch.length >= STREAM_HIGH_WATER) stream.pause();
    this.scheduleFlush();
  }

  /**
   * A client went away. A line without its newline then is a record cut by the client's death:
   * squid would write it (fgets returns it), herd drops it so that no cut line reaches the log.
   * Complete lines read before are still written: the client is gone and will not resend them.
   */
  gone(stream: ClientStream): void {
    stream.closed = true;
    this.scheduleFlush();
  }

  /** A control command read from a stream, in stream order relative to its lines. */
  command(command: ControlCommand): void {
    switch (command.kind) {
      case 'rotate':
        this.flushNow(); // lines read before R go to the file being rotated
        this.access.rotate();
        return;
      case 'rotateCount':
        this.access.rotateCount = command.count;
        return;
      // Every line read is written as soon as the file's previous write completes, never held
      // back, so buffered/unbuffered and flush change nothing here; T and O do nothing in squid either.
      case 'buffered':
      case 'flush':
      case 'truncate':
      case 'reopen':
        return;
    }
  }

  /** Batches every read of this turn of the loop into one write per file. */
  scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      if (this.access.idle()) this.flushAccess();
      if (this.error.idle()) this.flushErrors();
    });
  }

  private flushNow(): void {
    this.flushAccess();
    this.flushErrors();
  }

  private flushAccess(): void {
    const segments: Array<{ stream: ClientStream; data: Buffer; wire: number }> = [];
    for (const stream of this.streams) {
      if (stream.closed) this.streams.delete(stream); // after its last lines are taken below
      if (stream.parser.consumed === stream.queuedWire) continue;
      stream.queuedWire = stream.parser.consumed;
      segments.push({ stream, data: stream.batch.take(), wire: stream.queuedWire });
      stream.resume();
    }
    if (segments.length === 0) return;
    this.access.write(
      segments.map((s) => s.data),
      {
        started: (fileStart, ino) => {
          let from = fileStart;
          for (const s of segments) {
            s.stream.send(encodeAnnounce(s.wire, ino, from, from + s.data.length));
            from += s.data.length;
          }
        },
        done: () => {
          for (const s of segments) {
            s.stream.send(encodeAck(s.wire));
            s.stream.batch.written();
          }
          this.scheduleFlush();
        },
      },
    );
  }

  private flushErrors(): void {
    if (this.errorLines.length === 0) return;
    const data = this.errorLines.take();
    this.error.write([data], {
      started: () => {},
      done: () => {
        this.errorLines.written();
        this.scheduleFlush();
      },
    });
  }
}

/** One client connection: its parser, its unwritten lines, and how far it has been queued for writing. */
class ClientStream implements ProtocolSink, HandleOwner {
  readonly parser: ProtocolParser;
  readonly batch = new ByteBatch();
  /** data() only appends to the batch, so the parser may append runs of lines there itself. */
  readonly lines = this.batch;
  /** Input position up to which the stream's lines have been handed to a write. */
  queuedWire = 0;
  closed = false;
  private handle: StreamHandle | null;
  private readonly daemon: LogDaemonProcess;
  private paused = false;

  constructor(handle: StreamHandle, daemon: LogDaemonProcess) {
    this.handle = handle;
    this.daemon = daemon;
    this.parser = new ProtocolParser(this);
  }

  // ProtocolSink

  data(source: Buffer, start: number, end: number): void {
    this.batch.append(source, start, end);
  }

  command(command: ControlCommand): void {
    this.daemon.command(command);
  }

  // HandleOwner

  onData(data: Buffer, length: number): void {
    this.parser.push(data, length);
    this.daemon.received(this);
  }

  onEnd(): void {
    this.close();
  }

  onFailure(): void {
    this.close();
  }

  onWritten(): void {}

  /** A receipt (or the greeting) to the client; lost with a client that is gone, which never reads it. */
  send(receipt: string): void {
    if (this.handle !== null && writeBuffer(this.handle, Buffer.from(receipt, 'latin1')) < 0) this.close();
  }

  close(): void {
    if (this.handle === null) return;
    closeHandle(this.handle);
    this.handle = null;
    this.daemon.gone(this);
  }

  pause(): void {
    if (this.paused || this.handle === null) return;
    this.paused = true;
    pauseReading(this.handle);
  }

  resume(): void {
    if (!this.paused || this.handle === null) return;
    this.paused = false;
    resumeReading(this.handle);
  }
}
