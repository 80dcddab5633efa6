// The shape shared by herd reload|stop|reopen|upgrade: send one command, print the answer.
import { HerdError } from '../errors.ts';
import { sendControl } from '../supervisor/control_client.ts';
import type { ControlCommand } from '../supervisor/control_protocol.ts';
import { parseCommandLine } from './arguments.ts';
import { CONTROL_OPTIONS, controlHelp, controlPathFrom } from './control_target.ts';

export async function runControlCommand(command: ControlCommand, what: string, argv: string[], replyTimeoutMs?: number): Promise<number> {
  const { values } = parseCommandLine(command, argv, CONTROL_OPTIONS, false);
  if (values.help) {
    console.log(controlHelp(command, what));
    return 0;
  }
  const reply = await sendControl(await controlPathFrom(values), command, replyTimeoutMs);
  if (!reply.ok) throw new HerdError(reply.error);
  console.log(`herd: ${'message' in reply ? reply.message : 'done'}`);
  return 0;
}
