// herd upgrade: Start the herd now installed on the running one's sockets; the old one drains once the new one's workers are ready.
import { runControlCommand } from './control_command.ts';

/** The reply comes when the upgrade ends: the new herd's workers are ready, or it failed (its --start-timeout bounds that). */
const UPGRADE_REPLY_TIMEOUT_MS = 10 * 60_000;

export function run(argv: string[]): Promise<number> {
  return runControlCommand(
    'upgrade',
    'Upgrade herd itself (same as SIGUSR2): the running herd starts the herd now installed, with the same\narguments (the config file and environment are read again), passing it every listening socket; once\nthe new herd\'s workers are ready it takes over the control socket and pid file and the old one drains.\nIf the new herd fails to start, the running one serves on and this command says why (exit 1).',
    argv,
    UPGRADE_REPLY_TIMEOUT_MS,
  );
}
