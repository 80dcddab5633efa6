// Each cell's load comes from `herd bench --json` in a process of its own, so that the load
// generator's CPU is never counted as the server's and a crash in one cell cannot take the lab down.
import type { BenchResult } from '../bench/result.ts';
import { HerdError } from '../errors.ts';
import { spawnGroup, stopGroup } from './process_group.ts';
import { HERD_CLI } from './running_server.ts';

export interface BenchLoad {
  url: string;
  connections: number;
  seconds: number;
  keepAlive: boolean;
}

export function benchArguments(load: BenchLoad): string[] {
  return [HERD_CLI, 'bench', '--json', '-c', String(load.connections), '-t', String(load.seconds), ...(load.keepAlive ? ['-k', '-2'] : []), load.url];
}

/** Runs one load and returns what herd bench measured. Rejects if it printed no result. */
export async function runBenchProcess(load: BenchLoad, signal?: AbortSignal): Promise<BenchResult> {
  const child = spawnGroup(process.execPath, benchArguments(load));
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const onAbort = () => void stopGroup(child, 500);
  signal?.addEventListener('abort', onAbort, { once: true });
  // A run that is still going long after its seconds is stuck: stop it rather than wait for ever.
  const watchdog = setTimeout(() => void stopGroup(child, 1000), (load.seconds + 30) * 1000);
  const code = await new Promise<number | null>((resolve) => child.once('close', (c) => resolve(c)));
  clearTimeout(watchdog);
  signal?.removeEventListener('abort', onAbort);
  if (signal?.aborted) throw signal.reason;
  try {
    return JSON.parse(stdout) as BenchResult;
  } catch {
    const why = stderr.trim().split('\n').pop() || `exit code ${code}`;
    throw new HerdError(`herd bench -c ${load.connections} ${load.url} gave no result: ${why}`, 'ELABBENCH');
  }
}
