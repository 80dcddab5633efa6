// herd reopen: Reopen the log files (after logrotate renamed them).
import { runControlCommand } from './control_command.ts';

export function run(argv: string[]): Promise<number> {
  return runControlCommand('reopen', 'Reopen the log files (after logrotate renamed them).', argv);
}
