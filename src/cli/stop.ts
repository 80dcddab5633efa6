// herd stop: Graceful stop: finish in-flight requests, then exit.
import { runControlCommand } from './control_command.ts';

export function run(argv: string[]): Promise<number> {
  return runControlCommand('stop', 'Graceful stop: finish in-flight requests, then exit.', argv);
}
