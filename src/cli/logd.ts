// herd logd FILE: a drop-in replacement for squid's logfile-daemon (logfile_daemon in squid.conf):
// reads the protocol on stdin and writes FILE as squid's log_file_daemon would (see src/logd/protocol.ts).
import { UsageError } from '../errors.ts';
import { ByteBatch } from '../logd/byte_batch.ts';
import { LogFile } from '../logd/log_file.ts';
import { ProtocolParser, type ControlCommand } from '../logd/protocol.ts';
import { parseCommandLine } from './arguments.ts';

const HELP = `usage: herd logd FILE

Reads squid's logfile-daemon protocol on stdin and writes FILE ('-': stdout), as squid's
log_file_daemon does: L<text> writes a line, R rotates (FILE.0 … FILE.<n-1>), r<n> sets n
(default 10), b<0|1> and F are accepted (every line read is written at once), T and O do
nothing, any other line is written whole. Ends at the end of stdin.`;

/** Bytes waiting for the disk above which stdin is not read. */
const HIGH_WATER = 4 * 1024 * 1024;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parseCommandLine('logd', argv, { help: { type: 'boolean', short: 'h' } });
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('logd needs exactly one FILE; see herd logd --help');
  const file = LogFile.open(positionals[0]!);
  const batch = new ByteBatch();

  const flush = (): void => {
    if (batch.length === 0) return;
    const data = batch.take();
    file.write([data], { started: () => {}, done: () => batch.written() });
  };
  const parser = new ProtocolParser({
    data: (source, start, end) => batch.append(source, start, end),
    lines: batch,
    command: (command: ControlCommand) => {
      if (command.kind === 'rotate') {
        flush();
        file.rotate();
      } else if (command.kind === 'rotateCount') {
        file.rotateCount = command.count;
      }
    },
  });

  // While a failing write is retried (LogFile retries it) the next batch grows: one write when the disk is back.
  let flushQueued = false;
  const flushWhenIdle = (): void => {
    if (file.idle()) return flush();
    if (flushQueued) return;
    flushQueued = true;
    void file.whenIdle().then(() => {
      flushQueued = false;
      flush();
    });
  };

  const stdin = process.stdin;
  stdin.on('data', (chunk: Buffer) => {
    parser.push(chunk);
    flushWhenIdle();
    if (file.backlog() > HIGH_WATER) {
      stdin.pause();
      void file.whenIdle().then(() => stdin.resume());
    }
  });
  await new Promise<void>((resolve, reject) => {
    stdin.once('end', resolve);
    stdin.once('error', reject);
  });
  parser.end();
  flush();
  await file.close();
  return 0;
}
