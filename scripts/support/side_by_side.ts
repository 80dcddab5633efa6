// Two herds side by side, compared by `herd bench --vs`'s own machinery (src/bench/comparison.ts):
// loaded in turn in slices A B B A …, each slice bracketed by /proc readings of that server's
// process tree (server_usage.ts), B/A judged per round with the median, min–max and a bootstrap
// interval (slice_stats.ts). This machine drifts by 10–30 % over tens of seconds, more than the
// differences measured, so neighbouring slices are compared. A server waits unloaded (near zero
// CPU) while the other is measured.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runComparison } from '../../src/bench/comparison.ts';
import { comparisonSummary, sliceLine } from '../../src/bench/comparison_report.ts';
import { resolveOptions } from '../../src/bench/options.ts';
import type { ComparisonResult } from '../../src/bench/comparison.ts';
import { freePort } from '../../src/lab/ports.ts';
import { spawnGroup } from '../../src/lab/process_group.ts';
import { sendControl } from '../../src/supervisor/control_client.ts';
import type { Status } from '../../src/supervisor/control_protocol.ts';

const HOST = '127.0.0.1';
const HERD = fileURLToPath(new URL('../../src/cli/herd.ts', import.meta.url));

export interface SideServer {
  label: string;
  child: ChildProcess;
  url: string;
  control: string;
}

export interface SliceOptions {
  /** Slices of each server. */
  slices: number;
  seconds: number;
  connections: number;
  /** Wait after a slice's load before its server's CPU is read (logd's last batch, say). */
  settleMs: number;
}

export async function status(control: string): Promise<Status> {
  const reply = await sendControl(control, 'status');
  if (!reply.ok || !('status' in reply)) throw new Error(`herd status failed: ${JSON.stringify(reply)}`);
  return reply.status;
}

function waitForUrl(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`herd serve did not start:\n${output}`)), 20_000);
    const onData = (d: Buffer): void => {
      output += d;
      const m = /serving .* on (http:\/\/[^\s]+)/.exec(output);
      if (!m) return;
      clearTimeout(timer);
      resolve(m[1]!.replace(/\/?$/, '/'));
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`herd serve exited (${code}):\n${output}`)));
  });
}

/** `herd serve` with 2 workers and `args`, its control socket in workDir. */
export async function startSideServer(label: string, args: string[], workDir: string): Promise<SideServer> {
  const port = await freePort(HOST);
  const control = path.join(workDir, `control-${label.replace(/\W+/g, '-')}.sock`);
  const child = spawnGroup(process.execPath, [HERD, 'serve', '--host', HOST, '--port', String(port), '--workers', '2', '--control', control, '--grace', '2', ...args]);
  return { label, child, url: await waitForUrl(child), control };
}

/**
 * `herd bench -k -2 -c N --vs B A` with A's and B's process trees as --server-pid, 1 s of warm-up
 * each; prints each slice as it ends, then the table of medians and ratios and the verdict.
 */
export async function compareSideBySide(a: SideServer, b: SideServer, o: SliceOptions): Promise<ComparisonResult> {
  const run = (url: string): ReturnType<typeof resolveOptions> =>
    resolveOptions({ url, connections: o.connections, keepAlive: true, http: '1.1', durationSec: o.seconds });
  const plan = {
    a: { run: await run(a.url), serverPids: [a.child.pid!] },
    b: { run: await run(b.url), serverPids: [b.child.pid!] },
    slices: o.slices,
    warmupSec: 1,
    settleMs: o.settleMs,
  };
  console.log(`A: ${a.label}, B: ${b.label}; herd bench -k -2 -c ${o.connections}, ${o.slices} slices of ${o.seconds} s each, in turn A B B A …`);
  let index = 0;
  const result = await runComparison(plan, (slice) => process.stdout.write(sliceLine(slice, index++)));
  process.stdout.write(comparisonSummary(result));
  return result;
}
