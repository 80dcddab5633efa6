// The new supervisor's side of an upgrade: started by a running herd (successor.ts), it adopts the
// sockets that herd passed, starts its workers, and once they are ready asks to take over. Until
// it is told to, the control socket path, the pid file and systemd's MAINPID are the running
// herd's; a new supervisor that fails says why in one line (which the running herd logs) and exits,
// closing only its copies of the sockets.
import { UPGRADE_SOCKETS_VARIABLE, InheritedSockets } from './inherited_sockets.ts';
import type { UpgradeMessage } from './messages.ts';
import { UPGRADE_FROM_VARIABLE } from './successor.ts';

/** An upgrade started this process (the variable is read, and removed, when the supervisor opens). */
let startedByUpgrade = false;

export class Predecessor {
  /** The running herd's pid. */
  readonly pid: number;
  readonly sockets: InheritedSockets;

  private constructor(pid: number, sockets: InheritedSockets) {
    this.pid = pid;
    this.sockets = sockets;
    // The channel must not keep this herd alive once the old one is gone, nor after a failed start.
    process.channel?.unref();
  }

  /**
   * This process's predecessor, when an upgrade started it (both variables and the channel are
   * there); null otherwise. The variables are this process's alone: workers do not see them.
   */
  static fromEnvironment(env: NodeJS.ProcessEnv = process.env): Predecessor | null {
    const from = env[UPGRADE_FROM_VARIABLE];
    const sockets = env[UPGRADE_SOCKETS_VARIABLE];
    delete env[UPGRADE_FROM_VARIABLE];
    delete env[UPGRADE_SOCKETS_VARIABLE];
    if (from === undefined || !process.send) return null;
    startedByUpgrade = true;
    return new Predecessor(Number(from), InheritedSockets.fromVariable(sockets));
  }

  /**
   * Every worker is ready: asks the running herd to hand over. Resolves once it says so, or once it
   * is gone without saying (it crashed: nobody else serves, so this one does).
   */
  handOver(): Promise<void> {
    return new Promise((resolve) => {
      const onMessage = (message: UpgradeMessage) => {
        if (message.t !== 'take-over') return;
        done();
      };
      const done = () => {
        process.off('message', onMessage);
        process.off('disconnect', done);
        resolve();
      };
      process.on('message', onMessage);
      process.once('disconnect', done);
      if (!process.connected) return done();
      process.send!({ t: 'ready' } satisfies UpgradeMessage);
    });
  }

  /** The one line this herd exits with (a bad flag, a worker that never got ready), for the running herd to log. */
  static tellFailure(message: string): void {
    if (process.env[UPGRADE_FROM_VARIABLE] === undefined && !startedByUpgrade) return;
    if (process.connected) process.send!({ t: 'failed', message } satisfies UpgradeMessage);
  }
}
