// The supervisor's handle on logd: forks it, respawns it when it dies, feeds it the error log.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HerdError } from '../errors.ts';
import { siblingModule } from '../source_module.ts';
import type { DaemonConfig } from './daemon.ts';
import type { DaemonMessage, SupervisorToDaemon } from './daemon_messages.ts';
import type { EpochStart } from './receipts.ts';

const MAIN = fileURLToPath(siblingModule('./main', import.meta.url));

const START_TIMEOUT_MS = 10_000;
const STOP_TIMEOUT_MS = 5_000;
const RESPAWN_BASE_MS = 50;
const RESPAWN_CAP_MS = 2_000;
/** A daemon that lived this long was healthy: the next death starts the backoff over. */
const HEALTHY_UPTIME_MS = 5_000;
/** Error-log lines kept while no daemon is up; beyond it the oldest go (and the gap is said). */
const MAX_QUEUED_ERROR_LINES = 10_000;

export interface LogDaemonOptions {
  accessLog: string | null;
  errorLog: string;
  socketPath: string;
}

export class LogDaemon {
  /** Times the daemon died and was started again. */
  restarts = 0;
  private readonly options: LogDaemonOptions;
  private child: ChildProcess | undefined;
  private ready = false;
  private epoch = 0;
  private readonly starts: EpochStart[] = [];
  private queuedErrorLines: string[] = [];
  private lostErrorLines = 0;
  private youngDeaths = 0;
  private startedAt = 0;
  private respawnTimer: NodeJS.Timeout | undefined;
  private stopping = false;

  private constructor(options: LogDaemonOptions) {
    this.options = options;
  }

  /** Forks logd; resolves once it listens on socketPath, rejects (HerdError) when it cannot start. */
  static async start(opts: LogDaemonOptions): Promise<LogDaemon> {
    const daemon = new LogDaemon(opts);
    await daemon.spawn();
    return daemon;
  }

  /** pid of the running daemon (0 while it is being respawned). */
  get pid(): number {
    return this.ready ? (this.child?.pid ?? 0) : 0;
  }

  /** Reopen the log files (after logrotate renamed them). */
  reopen(): void {
    this.post({ t: 'reopen' });
  }

  /** One line for the error log. Never blocks: queued while the daemon is down. */
  error(line: string): void {
    if (this.ready) return this.post({ t: 'error-line', line });
    if (this.queuedErrorLines.length >= MAX_QUEUED_ERROR_LINES) {
      this.queuedErrorLines.shift();
      this.lostErrorLines++;
    }
    this.queuedErrorLines.push(line);
  }

  /** Writes everything logd has read, ends it; kills it if it does not end within 5 s. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.respawnTimer);
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    if (this.ready) this.post({ t: 'stop' });
    else child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }

  private post(message: SupervisorToDaemon): void {
    const child = this.child;
    if (!child?.connected) return;
    child.send(message, (err) => {
      // The daemon died with this message on the way; an error line is worth a retry to its successor.
      if (err && message.t === 'error-line') this.error(message.line);
    });
  }

  private spawn(): Promise<void> {
    const config: DaemonConfig = { ...this.options, epoch: this.epoch, starts: this.starts };
    const child = fork(MAIN, [JSON.stringify(config)], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      // Not the parent's flags (node --test's would make logd a test runner).
      execArgv: [],
    });
    this.child = child;
    this.ready = false;
    this.startedAt = Date.now();
    return new Promise((resolve, reject) => {
      let fatal: string | undefined;
      const timer = setTimeout(() => {
        fatal = `logd did not start within ${START_TIMEOUT_MS / 1000} s`;
        child.kill('SIGKILL');
      }, START_TIMEOUT_MS);
      child.on('message', (message: DaemonMessage) => {
        if (message.t === 'fatal') fatal = message.message;
        if (message.t !== 'ready') return;
        clearTimeout(timer);
        this.starts.push(message.start);
        this.ready = true;
        this.sendQueuedErrorLines();
        resolve();
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const wasReady = this.ready;
        this.ready = false;
        if (!wasReady) reject(new HerdError(fatal ?? `logd exited before it was ready (${signal ?? `code ${code}`})`, 'ELOGD'));
        // A daemon that never started (first spawn) is the caller's error to report, not one to retry.
        if (!this.stopping && this.child === child && this.starts.length > 0) this.scheduleRespawn();
      });
    });
  }

  private scheduleRespawn(): void {
    if (Date.now() - this.startedAt >= HEALTHY_UPTIME_MS) this.youngDeaths = 0;
    const delay = Math.min(RESPAWN_CAP_MS, RESPAWN_BASE_MS * 2 ** this.youngDeaths);
    this.youngDeaths++;
    this.respawnTimer = setTimeout(() => {
      if (this.stopping) return;
      this.restarts++;
      this.epoch++;
      this.spawn().catch((err: Error) => process.stderr.write(`herd: logd respawn failed: ${err.message}\n`));
    }, delay);
  }

  private sendQueuedErrorLines(): void {
    if (this.lostErrorLines > 0) {
      this.post({ t: 'error-line', line: `herd: ${this.lostErrorLines} error-log lines lost while logd was down` });
      this.lostErrorLines = 0;
    }
    const lines = this.queuedErrorLines;
    this.queuedErrorLines = [];
    for (const line of lines) this.post({ t: 'error-line', line });
  }
}
