// The herds this user runs: every control socket in the private runtime directory that answers.
// A socket left by a herd that was killed does not answer and is skipped.
import { sendControl } from '../supervisor/control_client.ts';
import type { Status } from '../supervisor/control_protocol.ts';
import { controlSocketsIn, runtimeDirPath } from '../supervisor/runtime_dir.ts';

export interface RunningHerd {
  control: string;
  status: Status;
}

const PROBE_TIMEOUT_MS = 2000;

export async function runningHerds(): Promise<RunningHerd[]> {
  const found = await Promise.all(
    controlSocketsIn(runtimeDirPath()).map(async (control) => {
      try {
        const reply = await sendControl(control, 'status', PROBE_TIMEOUT_MS);
        return reply.ok && 'status' in reply ? { control, status: reply.status } : null;
      } catch {
        return null;
      }
    }),
  );
  return found.filter((h): h is RunningHerd => h !== null);
}
