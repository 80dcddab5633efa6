// Every process the lab starts runs in its own process group, so that a server's workers, helpers and
// grandchildren are stopped together with it — after a normal run, a failure, or Ctrl-C.
import { spawn, type ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();

/** Starts `command` as the leader of a new process group, tracked until it exits. */
export function spawnGroup(command: string, args: string[]): ChildProcess {
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  child.once('error', () => live.delete(child));
  return child;
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is already gone
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}

function groupAlive(child: ChildProcess): boolean {
  if (child.pid === undefined) return false;
  try {
    process.kill(-child.pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * SIGTERM to the whole group, SIGKILL to whatever is left after `graceMs`, then wait (briefly) until
 * the group is gone: a killed worker holds its listening socket until it has really exited, and the
 * next server needs the port.
 */
export async function stopGroup(child: ChildProcess, graceMs = 3000): Promise<void> {
  signalGroup(child, 'SIGTERM');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), graceMs)));
  const outcome = await Promise.race([exited(child), late]);
  clearTimeout(timer);
  // The leader may be gone while some of its group lives on; SIGKILL reaches those too.
  signalGroup(child, 'SIGKILL');
  if (outcome === 'late') await exited(child);
  for (let i = 0; i < 40 && groupAlive(child); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}

/** Stops every group still running (Ctrl-C, or a failure that unwinds the lab). */
export async function stopAllGroups(graceMs = 1000): Promise<void> {
  await Promise.all([...live].map((child) => stopGroup(child, graceMs)));
}

/** Last resort on process exit, when nothing asynchronous can run any more. */
export function killAllGroupsNow(): void {
  for (const child of live) signalGroup(child, 'SIGKILL');
}
