// npm run bench:logd — one run, one load generator (herd bench), keep-alive, 2 workers, the built-in hello
// app: server CPU microseconds per request (utime+stime of herd's whole process tree from /proc,
// logd included) with access logging off and on (combined format, to a file). Prints both, the
// ratio, records dropped (from `herd status`), and checks that the file holds one line per request
// served. Target (issue 4): at most 10% more CPU per request with logging on, zero drops.
// The two servers run side by side, loaded in turn in short slices by `herd bench --vs`'s own code
// (support/side_by_side.ts); a slice's server CPU is read once the worker's last batch of records
// has been written.
// Environment: BENCH_ROUNDS slices of each (default 8), BENCH_SECONDS per slice (default 3), BENCH_CONNECTIONS (default 50).
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopAllGroups, stopGroup } from '../src/lab/process_group.ts';
import { compareSideBySide, startSideServer, status } from './support/side_by_side.ts';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Math.max(1, Number(process.env.BENCH_ROUNDS ?? 8));
/** Longer than the log client's send delay: the slice's last records reach the file before its CPU is read. */
const SETTLE_MS = 200;

async function main(): Promise<void> {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'herd-bench-logd-'));
  const accessLog = path.join(workDir, 'access.log');
  try {
    console.log(`bench:logd — herd bench -k -c ${CONNECTIONS}, herd serve --workers 2, hello world; ${os.cpus().length} CPUs; ${ROUNDS} rounds of a ${SECONDS} s slice per server, off and on in turn`);
    const off = await startSideServer('off', ['--access-log', 'off'], workDir);
    const on = await startSideServer('on (combined, file)', ['--access-log', accessLog], workDir);
    const comparison = await compareSideBySide(off, on, { slices: ROUNDS, seconds: SECONDS, connections: CONNECTIONS, settleMs: SETTLE_MS });
    const final = await status(on.control);
    const dropped = final.workers.reduce((n, w) => n + w.logDropped, 0);
    await Promise.all([stopGroup(off.child, 10_000), stopGroup(on.child, 10_000)]); // graceful: workers flush, logd writes
    const lines = fs.readFileSync(accessLog, 'latin1').split('\n').length - 1;

    const ratio = comparison.figures.serverCpuMicrosPerRequest.ratio;
    console.log(`CPU per request, logging on / off (median of the rounds): ${ratio.toFixed(3)} (target <= 1.10): ${ratio <= 1.1 ? 'met' : 'NOT met'}`);
    console.log(`drops at full load: ${dropped} (target 0): ${dropped === 0 ? 'met' : 'NOT met'}`);
    const served = final.requests;
    console.log(`lines in file (${lines}) = requests served (${served}) - dropped (${dropped}): ${lines === served - dropped ? 'yes' : 'NO'}`);
  } finally {
    await stopAllGroups();
    fs.rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
