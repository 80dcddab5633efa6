// npm run bench:observability — what --metrics and --request-id each cost: server CPU microseconds per
// request (herd's whole process tree, /proc) without and with the flag, keep-alive, 2 workers, the
// built-in hello app on the fast engine (BENCH_APP=path for another app, on node:http), side by side
// in alternating slices by `herd bench --vs`'s own code (support/side_by_side.ts). Target (issue 16): --metrics at most 3 % more.
// Environment: BENCH_ROUNDS slices of each (default 8), BENCH_SECONDS per slice (default 3), BENCH_CONNECTIONS (default 50).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopAllGroups } from '../src/lab/process_group.ts';
import { compareSideBySide, startSideServer } from './support/side_by_side.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 8));
const APP = process.env.BENCH_APP ? [path.resolve(process.env.BENCH_APP)] : [];

const FLAGS: Array<{ label: string; args: string[]; target: number | null }> = [
  { label: 'metrics on', args: ['--metrics', '127.0.0.1:0'], target: 1.03 },
  { label: 'request-id on', args: ['--request-id'], target: null },
];

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-observability-'));
  try {
    console.log(`bench:observability — herd bench -k -c ${CONNECTIONS}, herd serve --workers 2, ${APP[0] ?? 'hello world (fast engine)'}; ${os.cpus().length} CPUs; ${ROUNDS} rounds of a ${SECONDS} s slice per server`);
    const verdicts: string[] = [];
    for (const flag of FLAGS) {
      const off = await startSideServer('off', APP, workDir);
      const on = await startSideServer(flag.label, [...APP, ...flag.args], workDir);
      console.log(`\n## ${flag.args.join(' ')}`);
      const ratio = (await compareSideBySide(off, on, { slices: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, settleMs: 0 })).figures.serverCpuMicrosPerRequest.ratio;
      const verdict = flag.target === null ? '' : ` (target <= ${flag.target.toFixed(2)}): ${ratio <= flag.target ? 'met' : 'NOT met'}`;
      verdicts.push(`CPU per request, ${flag.label} / off (median of the rounds): ${ratio.toFixed(3)}${verdict}`);
      await stopAllGroups();
    }
    console.log('');
    for (const line of verdicts) console.log(line);
  } finally {
    await stopAllGroups();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
