// The thundering herd, counted: strace attached to every process of a server for a run, counting
// accept calls and the ones that failed (EAGAIN: the worker woke up, another one took the connection).
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HerdError } from '../errors.ts';
import { processTree } from './process_cpu.ts';
import { spawnGroup } from './process_group.ts';

export interface SyscallCount {
  calls: number;
  errors: number;
}

/** Parses the table `strace -c` writes: syscall name → calls and errors (the errors column may be blank). */
export function parseStraceSummary(text: string): Map<string, SyscallCount> {
  const counts = new Map<string, SyscallCount>();
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    // % time, seconds, usecs/call, calls, [errors], syscall
    if (f.length < 5 || f.length > 6 || !/^\d+(\.\d+)?$/.test(f[0])) continue;
    const name = f[f.length - 1];
    if (name === 'total') continue;
    counts.set(name, { calls: Number(f[3]), errors: f.length === 6 ? Number(f[4]) : 0 });
  }
  return counts;
}

export interface AcceptTrace {
  /** accept/accept4 calls, all processes together. */
  acceptCalls: number;
  /** Those that found nothing to accept (EAGAIN): a wake-up for a connection another process took. */
  acceptErrors: number;
  /** epoll_wait/epoll_pwait returns: wake-ups. */
  epollWaits: number;
}

export function acceptTraceFrom(counts: Map<string, SyscallCount>): AcceptTrace {
  const get = (name: string) => counts.get(name) ?? { calls: 0, errors: 0 };
  const accepts = [get('accept'), get('accept4')];
  return {
    acceptCalls: accepts.reduce((a, c) => a + c.calls, 0),
    acceptErrors: accepts.reduce((a, c) => a + c.errors, 0),
    epollWaits: ['epoll_wait', 'epoll_pwait', 'epoll_pwait2'].reduce((a, n) => a + get(n).calls, 0),
  };
}

/** A running `strace -c -f` attached to a whole process tree. */
export class SyscallTracer {
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #exited: Promise<void>;
  #lastError = '';

  constructor(rootPid: number) {
    this.#dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-lab-strace-'));
    const attach = processTree(rootPid).flatMap((pid) => ['-p', String(pid)]);
    this.#child = spawnGroup('strace', ['-f', '-c', '-e', 'trace=accept,accept4,epoll_wait,epoll_pwait,epoll_pwait2', '-o', path.join(this.#dir, 'summary'), ...attach]);
    this.#child.stdout!.resume();
    this.#exited = new Promise((resolve) => this.#child.once('close', () => resolve()));
  }

  /** Waits until strace has attached to every thread (it says so on stderr, once per process). */
  async attached(processes: number, timeoutMs = 5000): Promise<void> {
    let seen = 0;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#child.stderr!.on('data', (data: Buffer) => {
        const text = data.toString();
        seen += text.split('attached').length - 1;
        this.#lastError = text.trim().split('\n').pop() ?? this.#lastError;
        if (seen >= processes) {
          clearTimeout(timer);
          resolve();
        }
      });
      this.#child.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Detaches (SIGINT makes strace write its summary) and returns the counts. */
  async stop(): Promise<AcceptTrace> {
    this.#child.kill('SIGINT');
    await this.#exited;
    try {
      return acceptTraceFrom(parseStraceSummary(fs.readFileSync(path.join(this.#dir, 'summary'), 'utf8')));
    } catch {
      throw new HerdError(`strace wrote no summary: ${this.#lastError || 'no reason given'}`, 'ESTRACE');
    } finally {
      fs.rmSync(this.#dir, { recursive: true, force: true });
    }
  }
}

/** True when strace can be started here (installed, and ptrace allowed). */
export function straceAvailable(): boolean {
  const dirs = (process.env.PATH ?? '').split(path.delimiter);
  return dirs.some((d) => fs.existsSync(path.join(d, 'strace')));
}
