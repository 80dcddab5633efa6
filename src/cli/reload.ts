// herd reload: Rolling reload: one worker at a time, the new one ready before the old one drains.
import { runControlCommand } from './control_command.ts';

export function run(argv: string[]): Promise<number> {
  return runControlCommand('reload', 'Rolling reload: one worker at a time, the new one ready before the old one drains.', argv);
}
