// herd logs [-f] [--access|--error] [-n N]: the last lines of the log files a running herd writes,
// and with -f every line after them, across rotation (logrotate renames the file and USR1 makes logd
// open a new one: the old file is read to its end, then the new one from its start), as tail -F does.
import fs from 'node:fs';
import { HerdError, UsageError } from '../errors.ts';
import { sendControl } from '../supervisor/control_client.ts';
import { parseCommandLine } from './arguments.ts';
import { CONTROL_OPTIONS, controlHelp, controlPathFrom } from './control_target.ts';

const POLL_MS = 200;
const BLOCK = 64 * 1024;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine('logs', argv, {
    ...CONTROL_OPTIONS,
    follow: { type: 'boolean', short: 'f' },
    access: { type: 'boolean' },
    error: { type: 'boolean' },
    lines: { type: 'string', short: 'n' },
  }, false);
  if (values.help) {
    console.log(controlHelp('logs [-f] [--access|--error] [-n N]', 'The last N lines (default 10) of the access log and the error log; -f follows them, across rotation.'));
    return 0;
  }
  const lines = values.lines === undefined ? 10 : Number(values.lines);
  if (!Number.isInteger(lines) || lines < 0) throw new UsageError(`-n must be a whole number of lines, not '${values.lines}'`);
  const reply = await sendControl(await controlPathFrom(values), 'status');
  if (!reply.ok || !('status' in reply)) throw new HerdError(reply.ok ? 'herd answered status without a status' : reply.error);
  const { accessLog, errorLog } = reply.status;
  const both = !values.access && !values.error;
  const wanted: { name: string; file: string | null; stream: string }[] = [];
  if (values.access || both) wanted.push({ name: 'access log', file: accessLog, stream: 'stdout (--access-log -)' });
  if (values.error || both) wanted.push({ name: 'error log', file: errorLog, stream: 'stderr (--error-log -, the default)' });

  const files: string[] = [];
  for (const w of wanted) {
    if (w.file === null) console.error(`herd: the ${w.name} is off (herd serve --access-log FILE turns it on)`);
    else if (w.file === '-') console.error(`herd: the ${w.name} goes to herd serve's ${w.stream}; read it there`);
    else files.push(w.file);
  }
  if (files.length === 0) return 1;
  const followers = files.map((file) => new Follower(file, files.length > 1));
  for (const f of followers) f.printTail(lines);
  if (!values.follow) return 0;
  await new Promise<never>(() => setInterval(() => followers.forEach((f) => f.poll()), POLL_MS));
  return 0;
}

class Follower {
  readonly file: string;
  private readonly labelled: boolean;
  private fd: number | null = null;
  private ino = 0;
  private position = 0;
  private partial = '';

  constructor(file: string, labelled: boolean) {
    this.file = file;
    this.labelled = labelled;
    this.open();
  }

  private open(): void {
    try {
      this.fd = fs.openSync(this.file, 'r');
      this.ino = fs.fstatSync(this.fd).ino;
      this.position = 0;
    } catch (err) {
      this.fd = null;
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new HerdError(`cannot read ${this.file}: ${(err as Error).message}`, 'ELOGREAD');
    }
  }

  /** The last `count` lines, read backwards in blocks so a large log costs only its tail. */
  printTail(count: number): void {
    if (this.fd === null) return;
    const size = fs.fstatSync(this.fd).size;
    let start = size;
    let text = '';
    while (start > 0 && text.split('\n').length <= count + 1) {
      const length = Math.min(BLOCK, start);
      start -= length;
      const buffer = Buffer.alloc(length);
      fs.readSync(this.fd, buffer, 0, length, start);
      text = buffer.toString('utf8') + text;
    }
    const all = text.split('\n');
    if (all.at(-1) === '') all.pop();
    if (this.labelled) process.stdout.write(`==> ${this.file} <==\n`);
    for (const line of count === 0 ? [] : all.slice(-count)) process.stdout.write(line + '\n');
    this.position = size;
  }

  /** What was appended since; then, if the path is now another file (rotated), that file from its start. */
  poll(): void {
    if (this.fd !== null) this.drain();
    let current: fs.Stats | null = null;
    try {
      current = fs.statSync(this.file);
    } catch {
      return; // renamed away and not reopened yet
    }
    if (this.fd === null || current.ino !== this.ino) {
      if (this.fd !== null) fs.closeSync(this.fd);
      this.open();
      this.drain();
    } else if (current.size < this.position) {
      this.position = 0; // truncated in place (copytruncate)
      this.drain();
    }
  }

  private drain(): void {
    const buffer = Buffer.alloc(BLOCK);
    for (;;) {
      const n = fs.readSync(this.fd!, buffer, 0, BLOCK, this.position);
      if (n === 0) break;
      this.position += n;
      const text = this.partial + buffer.toString('utf8', 0, n);
      const end = text.lastIndexOf('\n') + 1;
      if (end > 0) process.stdout.write(text.slice(0, end));
      this.partial = text.slice(end);
    }
  }
}
