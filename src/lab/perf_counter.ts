// The thundering herd, counted by the kernel: `perf stat` on syscall and scheduler tracepoints,
// system-wide but filtered in the kernel to the server's own threads, enabled and disabled exactly
// around one load (perf's control pipe, acknowledged), so neither perf's start-up nor anything else
// on the machine is counted. Counting (no sampling, no ptrace) costs the server least of any tracer.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';
import { HerdError } from '../errors.ts';

/** What one traced load counted, over the threads it was told to watch. */
export interface KernelCounts {
  /** accept4() returning EAGAIN: a loop that found the accept queue empty. */
  eagainAccepts: number;
  /** accept4() returning a descriptor. */
  acceptedAccepts: number;
  /** sched_wakeup of an event-loop thread (the thread made runnable). */
  loopWakeups: number;
  /** sched_switch away from an event-loop thread (voluntary and involuntary). */
  loopSwitches: number;
}

const EAGAIN = 11;
const COUNT_KEYS = ['eagainAccepts', 'acceptedAccepts', 'loopWakeups', 'loopSwitches'] as const;

let available: boolean | undefined;

/** True when perf can count the accept4 exit tracepoint here (perf installed, root or a low perf_event_paranoid, tracefs). */
export function perfAvailable(): boolean {
  if (available === undefined) {
    try {
      execFileSync('perf', ['stat', '-x,', '-e', 'syscalls:sys_exit_accept4', '-e', 'sched:sched_wakeup', 'true'], { stdio: 'ignore', timeout: 10_000 });
      available = true;
    } catch {
      available = false;
    }
  }
  return available;
}

function anyOf(field: string, ids: readonly number[]): string {
  return ids.map((id) => `${field} == ${id}`).join(' || ');
}

/** perf's arguments: one event per figure, in COUNT_KEYS order, each filtered to the given threads. */
export function perfArguments(acceptTids: readonly number[], loopTids: readonly number[]): string[] {
  if (acceptTids.length === 0 || loopTids.length === 0) throw new HerdError('perf: no threads to watch', 'EPERFTRACE');
  const acceptors = anyOf('common_pid', acceptTids);
  return [
    'stat', '-x,', '-a', '--delay', '-1', '--control', 'fd:3,4',
    '-e', 'syscalls:sys_exit_accept4', '--filter', `ret == -${EAGAIN} && (${acceptors})`,
    '-e', 'syscalls:sys_exit_accept4', '--filter', `ret >= 0 && (${acceptors})`,
    '-e', 'sched:sched_wakeup', '--filter', anyOf('pid', loopTids),
    '-e', 'sched:sched_switch', '--filter', anyOf('prev_pid', loopTids),
  ];
}

/** Parses `perf stat -x,` output: the counts of the events, in the order they were given. */
export function parsePerfStat(text: string): KernelCounts {
  const values: number[] = [];
  for (const line of text.split('\n')) {
    const f = line.split(',');
    if (f.length < 3 || !/^(syscalls|sched):/.test(f[2])) continue;
    if (!/^\d+$/.test(f[0])) throw new HerdError(`perf could not count ${f[2]}: ${f[0]}`, 'EPERFTRACE');
    values.push(Number(f[0]));
  }
  if (values.length !== COUNT_KEYS.length) throw new HerdError(`perf printed ${values.length} counts, not ${COUNT_KEYS.length}: ${text.trim().split('\n').pop() ?? ''}`, 'EPERFTRACE');
  return { eagainAccepts: values[0], acceptedAccepts: values[1], loopWakeups: values[2], loopSwitches: values[3] };
}

/** One `perf stat` over one load: `start` returns once counting is on; `stop` turns it off and reads. */
export class PerfCounter {
  readonly #child: ChildProcess;
  readonly #control: Writable;
  readonly #acks: Readable;
  readonly #closed: Promise<void>;
  #stderr = '';

  private constructor(acceptTids: readonly number[], loopTids: readonly number[]) {
    // Its own process group, so the lab's Ctrl-C handling can reach it; fds 3 and 4 are the control pipe.
    this.#child = spawn('perf', perfArguments(acceptTids, loopTids), { detached: true, stdio: ['ignore', 'ignore', 'pipe', 'pipe', 'pipe'] });
    this.#control = this.#child.stdio[3] as Writable;
    this.#acks = this.#child.stdio[4] as Readable;
    this.#child.stderr!.on('data', (d: Buffer) => (this.#stderr += d.toString()));
    this.#closed = new Promise((resolve) => this.#child.once('close', () => resolve()));
    this.#child.once('error', () => {});
  }

  static async start(acceptTids: readonly number[], loopTids: readonly number[]): Promise<PerfCounter> {
    const counter = new PerfCounter(acceptTids, loopTids);
    await counter.#command('enable');
    return counter;
  }

  /** Sends a control command and waits for perf's 'ack' (it acts on the command before answering). */
  async #command(what: 'enable' | 'disable', timeoutMs = 5000): Promise<void> {
    const acked = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => done(new HerdError(`perf did not acknowledge '${what}' within ${timeoutMs} ms: ${this.#stderr.trim().split('\n').pop() ?? ''}`, 'EPERFTRACE')), timeoutMs);
      const onData = (d: Buffer) => d.toString().includes('ack') && done();
      const onClose = () => done(new HerdError(`perf exited: ${this.#stderr.trim().split('\n').pop() ?? 'no reason given'}`, 'EPERFTRACE'));
      const done = (err?: Error) => {
        clearTimeout(timer);
        this.#acks.off('data', onData);
        this.#child.off('close', onClose);
        if (err) {
          this.#child.kill('SIGKILL');
          reject(err);
        } else resolve();
      };
      this.#acks.on('data', onData);
      this.#child.once('close', onClose);
    });
    this.#control.write(`${what}\n`);
    await acked;
  }

  async stop(): Promise<KernelCounts> {
    await this.#command('disable');
    this.#child.kill('SIGINT');
    await this.#closed;
    return parsePerfStat(this.#stderr);
  }

  /** Ends perf without reading (the load failed). */
  async abandon(): Promise<void> {
    this.#child.kill('SIGKILL');
    await this.#closed;
  }
}
