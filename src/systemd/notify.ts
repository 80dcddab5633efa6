// sd_notify for a process that cannot send a unix datagram: Node has no AF_UNIX SOCK_DGRAM. Each
// notification is handed to Debian's systemd-notify (the systemd package), which sends it to
// NOTIFY_SOCKET (a path or an @abstract name). `--pid=` names the supervisor: systemd-notify then
// sends MAINPID= and, where it may (root), credentials saying the supervisor sent it, so
// NotifyAccess=main suffices; unprivileged, the datagram comes from systemd-notify's own pid, a
// child in the unit's cgroup, so the unit needs NotifyAccess=all (herd systemd-unit writes that).
// Notifications go one at a time, in order: RELOADING=1 must not overtake the READY=1 before it.
import { execFile } from 'node:child_process';

export const SYSTEMD_NOTIFY = '/usr/bin/systemd-notify';

export class SystemdNotifier {
  /** NOTIFY_SOCKET, for an upgrade's new herd. */
  readonly socket: string;
  readonly #pid: number;
  readonly #binary: string;
  readonly #log: (line: string) => void;
  #chain: Promise<void> = Promise.resolve();
  /** After a failure (nobody is listening) or a hand-over: nothing more is sent. */
  #muted = false;

  /** The notifier for this process, or null when systemd did not ask (no NOTIFY_SOCKET). */
  static fromEnvironment(env: NodeJS.ProcessEnv, log: (line: string) => void, binary = SYSTEMD_NOTIFY): SystemdNotifier | null {
    const socket = env.NOTIFY_SOCKET;
    return socket ? new SystemdNotifier(socket, process.pid, binary, log) : null;
  }

  constructor(socket: string, pid: number, binary: string, log: (line: string) => void) {
    this.socket = socket;
    this.#pid = pid;
    this.#binary = binary;
    this.#log = log;
  }

  /** Sends NAME=VALUE assignments in one datagram; resolves once systemd-notify is done. */
  send(assignments: Record<string, string | number>): Promise<void> {
    const args = [`--pid=${this.#pid}`, ...Object.entries(assignments).map(([k, v]) => `${k}=${String(v).replace(/\n/g, ' ')}`)];
    this.#chain = this.#chain.then(() => this.#run(args));
    return this.#chain;
  }

  /**
   * An upgrade: the new herd `pid` is the service's main process from now on (MAINPID=, which
   * systemd-notify sends for --pid=). This notifier sends nothing after it: the herd it speaks
   * for is leaving, and its STOPPING=1 would stop the service.
   */
  handOver(pid: number, status: string): Promise<void> {
    const args = [`--pid=${pid}`, `MAINPID=${pid}`, `STATUS=${status.replace(/\n/g, ' ')}`];
    this.#chain = this.#chain.then(() => this.#run(args)).then(() => {
      this.#muted = true;
    });
    return this.#chain;
  }

  #run(args: string[]): Promise<void> {
    if (this.#muted) return Promise.resolve();
    return new Promise((resolve) => {
      execFile(this.#binary, args, { env: { ...process.env, NOTIFY_SOCKET: this.socket }, timeout: 5000 }, (err, _stdout, stderr) => {
        if (err) {
          const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `${this.#binary} is not installed (Debian: apt install systemd)` : `${stderr.trim() || err.message}`;
          this.#log(`systemd notification failed: ${why}; no more will be sent`);
          this.#muted = true;
        }
        resolve();
      });
    });
  }

  /** Every pending notification sent (before herd exits). */
  flushed(): Promise<void> {
    return this.#chain;
  }
}

/** CLOCK_MONOTONIC in µs, as RELOADING=1 wants it beside (libuv's hrtime reads that clock). */
export function monotonicMicros(): string {
  return String(process.hrtime.bigint() / 1000n);
}
