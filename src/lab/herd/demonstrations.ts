// The seed's demonstrations, run: the C program of accept_demo_source.ts compiled with the machine's
// C compiler (cc) when there is one, each mode run with the same number of processes and one
// connection, and the children's reports counted.
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ACCEPT_DEMO_C } from './accept_demo_source.ts';
import type { DemoMode, Demonstration } from './herd_results.ts';

/** The seed's sleep before accept(), shortened from its 2 s: long enough for every sibling to wake. */
export const SEED_SLEEP_MS = 200;

const RUNS: Array<{ mode: DemoMode; program: string; sleepMs: number }> = [
  { mode: 'blocking-accept', program: 'blocking-accept', sleepMs: 0 },
  { mode: 'shared-epoll', program: 'shared-epoll', sleepMs: 0 },
  { mode: 'shared-epoll-sleep', program: 'shared-epoll', sleepMs: SEED_SLEEP_MS },
  { mode: 'own-epoll', program: 'own-epoll', sleepMs: 0 },
  { mode: 'own-epoll-exclusive', program: 'own-epoll-exclusive', sleepMs: 0 },
];

export const DEMO_DESCRIPTIONS: Record<DemoMode, string> = {
  'blocking-accept': 'all block in accept() on one socket',
  'shared-epoll': 'one epoll instance shared by all (made before fork), accept at once',
  'shared-epoll-sleep': `one shared epoll instance, ${SEED_SLEEP_MS} ms sleep before accept (the seed's sleep)`,
  'own-epoll': 'each its own epoll instance on the shared socket',
  'own-epoll-exclusive': 'each its own epoll instance, EPOLLEXCLUSIVE',
};

/** Counts the children's lines of one run. */
export function parseDemoOutput(mode: DemoMode, processes: number, stdout: string): Demonstration {
  const lines = stdout.split('\n');
  const count = (what: string) => lines.filter((l) => l.startsWith(`${what} `)).length;
  const roused = lines.filter((l) => /^switched \d+ [1-9]\d*$/.test(l)).length;
  return { mode, processes, woke: count('woke'), roused, accepted: count('accepted'), failedAccepts: count('eagain') + count('error') };
}

/** Compiles the program into `dir`; null with a reason when there is no compiler or it fails. */
export function compileDemo(dir: string): { binary: string } | { skipped: string } {
  const source = path.join(dir, 'herd-accept-demo.c');
  const binary = path.join(dir, 'herd-accept-demo');
  fs.writeFileSync(source, ACCEPT_DEMO_C);
  try {
    execFileSync('cc', ['-O1', '-o', binary, source], { stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000 });
    return { binary };
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: Buffer };
    if (e.code === 'ENOENT') return { skipped: 'no C compiler (cc) on PATH' };
    return { skipped: `cc failed: ${e.stderr?.toString().trim().split('\n')[0] ?? e.message}` };
  }
}

export async function runDemonstrations(processes: number, workDir: string): Promise<{ demonstrations: Demonstration[]; notes: string[] }> {
  const dir = fs.mkdtempSync(path.join(workDir, 'demo-'));
  try {
    const built = compileDemo(dir);
    if ('skipped' in built) return { demonstrations: [], notes: [`herd: the seed's C demonstrations skipped, ${built.skipped}`] };
    const demonstrations: Demonstration[] = [];
    const notes: string[] = [];
    for (const run of RUNS) {
      const result = spawnSync(built.binary, [run.program, String(processes), String(run.sleepMs)], { encoding: 'utf8', timeout: 10_000 });
      if (result.status !== 0 || !result.stdout.includes('done')) {
        notes.push(`herd: demonstration ${run.mode} failed: ${(result.stderr || String(result.error ?? result.status)).trim().split('\n')[0]}`);
        continue;
      }
      demonstrations.push(parseDemoOutput(run.mode, processes, result.stdout));
    }
    return { demonstrations, notes };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
