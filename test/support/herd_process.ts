// Starts a real `herd serve` (or any herd command) as a child process, for integration tests.
// Every process started here is killed when the test ends, pass or fail.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const HERD = path.join(ROOT, 'src/cli/herd.ts');
export const fixture = (name: string): string => path.join(ROOT, 'test/fixtures/apps', name);

export interface RunningHerd {
  child: ChildProcess;
  url: string;
  port: number;
  control: string;
  /** Everything printed so far on stdout and stderr. */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process is gone. */
  exited: Promise<number | string>;
  /** Runs another herd command (status, reload...) against this herd's control socket. */
  command(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }>;
}

/** A fresh temp dir for one test, removed at the end. */
export function tempDir(t: TestContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-test-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Runs `herd ARGS` to completion (for commands that exit by themselves). */
export function runHerd(args: string[], timeoutMs = 20_000, env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERD, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`herd ${args.join(' ')} did not exit within ${timeoutMs} ms; output: ${stdout}${stderr}`));
    }, timeoutMs);
    // 'close', not 'exit': every byte of its output has been read then.
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

/** Starts `herd serve ARGS` on 127.0.0.1 and a free port, and waits until it prints its URL. */
export interface StartOptions {
  timeoutMs?: number;
  /** What runs `herd serve` (the serve flags are appended): the checkout's CLI unless an installed one is tested. */
  command?: string[];
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** No --control: herd takes its default socket in the runtime directory (set XDG_RUNTIME_DIR in env). */
  defaultControl?: boolean;
}

export async function startHerd(t: TestContext, args: string[], options: StartOptions = {}): Promise<RunningHerd> {
  const dir = tempDir(t);
  let control = path.join(dir, 'control.sock');
  const [file, ...prefix] = options.command ?? [process.execPath, HERD, 'serve'];
  const argv = [...prefix, '--host', '127.0.0.1', '--port', '0', ...(options.defaultControl ? [] : ['--control', control]), ...args];
  const child = spawn(file, argv, {
    cwd: options.cwd,
    env: options.env,
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, so cleanup can kill workers too
  });
  if (options.defaultControl) control = path.join(options.env?.XDG_RUNTIME_DIR ?? '', 'herd', `herd-pid${child.pid}.sock`);
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  // 'close', not 'exit': every byte of its output has been read then (logd shares the supervisor's).
  const exited = new Promise<number | string>((resolve) => child.on('close', (code, signal) => resolve(code ?? signal ?? -1)));
  t.after(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`herd serve did not start within ${options.timeoutMs ?? 20_000} ms:\n${output}`)), options.timeoutMs ?? 20_000);
    const check = () => {
      const m = /serving .* on (https?:\/\/[^\s]+)/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout!.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`herd serve exited (${code}) before serving:\n${output}`));
    });
  });
  return {
    child,
    url,
    port: Number(new URL(url).port),
    control,
    output: () => output,
    exited,
    command: (...cmd: string[]) => runHerd([...cmd, '--control', control]),
  };
}

export interface WorkerStatusJson {
  id: number;
  pid: number;
  state: string;
  requests: number;
  share: number;
  restarts: number;
  connections: number;
}

export async function status(herd: RunningHerd): Promise<{ pid: number; workers: WorkerStatusJson[]; requests: number; dispatch: string; logd: { pid: number } | null }> {
  const r = await herd.command('status', '--json');
  if (r.code !== 0) throw new Error(`herd status failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

export interface BenchSummary {
  requests: { succeeded: number; failed: number };
  errors: Record<string, number>;
}

/** `herd bench FLAGS --json URL` for `seconds` (killed 20 s after that); resolves with its JSON summary. */
export function benchJson(url: string, seconds: number, flags: string[]): Promise<BenchSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [HERD, 'bench', ...flags, '-t', String(seconds), '--timeout', '5', '--json', url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), (seconds + 20) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`herd bench exited ${code}: ${err}`));
      resolve(JSON.parse(out) as BenchSummary);
    });
  });
}

/** Whether a process of that pid exists (signal 0). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
