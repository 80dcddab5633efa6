// The running supervisor's side of an upgrade: it starts the herd now installed — the same node
// (process.execPath, with its flags), the same herd script path (process.argv[1], so whatever npm
// put there since), the same arguments, in the same working directory — so the new one reads its
// configuration again: flags, environment, config file. Every listening socket travels as an
// inherited descriptor (inherited_sockets.ts); the new supervisor shares this one's stdout and
// stderr and its process group. What the new one says, and its exit, become events of this one's
// queue; the rules are pool_cycle.ts's.
import { spawn, type ChildProcess } from 'node:child_process';
import { HerdError } from '../errors.ts';
import { passToChild, UPGRADE_SOCKETS_VARIABLE, type PassedSocket } from './inherited_sockets.ts';
import type { UpgradeMessage } from './messages.ts';
import type { SuccessorEvent } from './pool_cycle.ts';

/** Tells the new supervisor it was started by an upgrade, and by whom. */
export const UPGRADE_FROM_VARIABLE = 'HERD_UPGRADE_FROM';

/** stdin, stdout, stderr, the IPC channel; the sockets from here on. */
const FIRST_SOCKET_FD = 4;

export class Successor {
  readonly pid: number;
  readonly #child: ChildProcess;
  #failure: string | undefined;
  /** Ready, or given up on: its exit is no news any more. */
  #settled = false;

  private constructor(child: ChildProcess, emit: (event: SuccessorEvent) => void) {
    this.#child = child;
    this.pid = child.pid!;
    child.on('message', (message: UpgradeMessage) => {
      if (message.t === 'failed') this.#failure = message.message.split('\n')[0];
      if (message.t !== 'ready' || this.#settled) return;
      this.#settled = true;
      emit({ t: 'successor-ready', pid: this.pid });
    });
    const failed = (how: string) => {
      if (this.#settled) return;
      this.#settled = true;
      emit({ t: 'successor-failed', pid: this.pid, reason: `${how} before its workers were ready${this.#failure ? `: ${this.#failure}` : ''}` });
    };
    child.on('error', (err) => failed(`could not run (${err.message})`));
    // 'close', not 'exit': its last message (the `failed` line) is read by then.
    child.once('close', (code, signal) => failed(signal ? `was killed by ${signal}` : `exited with code ${code}`));
  }

  /** Spawns the new supervisor; throws a HerdError when it cannot be started at all. */
  static start(sockets: PassedSocket[], env: NodeJS.ProcessEnv, emit: (event: SuccessorEvent) => void): Successor {
    const passed = passToChild(sockets, FIRST_SOCKET_FD);
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], {
        stdio: ['ignore', 'inherit', 'inherit', 'ipc', ...passed.stdio],
        env: { ...process.env, ...env, [UPGRADE_FROM_VARIABLE]: String(process.pid), [UPGRADE_SOCKETS_VARIABLE]: passed.variable },
        serialization: 'json',
      });
    } catch (err) {
      throw new HerdError(`cannot start the new herd: ${(err as Error).message}`, 'EUPGRADE');
    }
    if (child.pid === undefined) {
      // spawn reports a missing binary asynchronously; the pid tells now.
      child.on('error', () => {});
      throw new HerdError(`cannot start the new herd: ${process.execPath} did not run`, 'EUPGRADE');
    }
    return new Successor(child, emit);
  }

  /** It is ready: it takes over. The channel is let go once the message is out, so this herd can exit. */
  takeOver(): void {
    const child = this.#child;
    child.unref();
    if (!child.connected) return;
    child.send({ t: 'take-over' } satisfies UpgradeMessage, () => {
      if (child.connected) child.disconnect();
    });
  }

  /** The upgrade is abandoned: the new supervisor stops (its workers drain; the sockets stay ours). */
  abandon(): void {
    this.#settled = true;
    this.#child.kill('SIGTERM');
    this.#child.unref();
    if (this.#child.connected) this.#child.disconnect();
  }
}
