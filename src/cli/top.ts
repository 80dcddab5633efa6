// herd top: a live view of a running herd, redrawn every second and on resize; q (or Ctrl-C) quits.
// Rates are differences between two status answers: requests/s and CPU% over the last interval, not
// averages since start. When stdout is not a terminal it prints `herd status` once and exits.
import { HerdError } from '../errors.ts';
import { sendControl } from '../supervisor/control_client.ts';
import type { Status } from '../supervisor/control_protocol.ts';
import { parseCommandLine } from './arguments.ts';
import { CONTROL_OPTIONS, controlHelp, controlPathFrom } from './control_target.ts';
import { bucketQuantile } from '../metrics/bucket_quantile.ts';
import { duration, formatStatus } from './status.ts';

const REFRESH_MS = 1000;
const ENTER_SCREEN = '\x1b[?1049h\x1b[?25l';
const LEAVE_SCREEN = '\x1b[?25h\x1b[?1049l';

interface Sample {
  at: number;
  status: Status;
}

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine('top', argv, CONTROL_OPTIONS, false);
  if (values.help) {
    console.log(controlHelp('top', 'Every worker, refreshed every second: pid, state, connections, requests/s, share, p50/p99 latency (with --metrics), RSS, CPU%, restarts. q quits.'));
    return 0;
  }
  const control = await controlPathFrom(values);
  const ask = async (): Promise<Sample> => {
    const reply = await sendControl(control, 'status');
    if (!reply.ok || !('status' in reply)) throw new HerdError(reply.ok ? 'herd answered status without a status' : reply.error);
    return { at: performance.now(), status: reply.status };
  };
  if (!process.stdout.isTTY) {
    console.log(formatStatus((await ask()).status));
    return 0;
  }
  return live(ask);
}

function live(ask: () => Promise<Sample>): Promise<number> {
  return new Promise((resolve) => {
    let previous: Sample | null = null;
    let last: Sample | null = null;
    let timer: NodeJS.Timeout | undefined;
    let lastError = '';
    const quit = (code: number) => {
      clearTimeout(timer);
      process.stdout.off('resize', redraw);
      process.stdin.setRawMode?.(false);
      process.stdin.pause();
      process.stdout.write(LEAVE_SCREEN);
      if (lastError !== '' && code !== 0) console.error(`herd: ${lastError}`);
      resolve(code);
    };
    function redraw(): void {
      if (last) process.stdout.write('\x1b[H\x1b[2J' + render(previous, last, process.stdout.columns, process.stdout.rows));
    }
    const tick = async () => {
      try {
        const sample = await ask();
        previous = last;
        last = sample;
        redraw();
      } catch (err) {
        // The herd stopped (or stopped answering): say so where the view was, and leave.
        lastError = err instanceof Error ? err.message : String(err);
        return quit(1);
      }
      timer = setTimeout(tick, REFRESH_MS);
    };
    process.stdout.write(ENTER_SCREEN);
    process.stdout.on('resize', redraw);
    process.stdin.setRawMode?.(true);
    process.stdin.resume();
    process.stdin.on('data', (key: Buffer) => {
      const k = key.toString();
      if (k === 'q' || k === 'Q' || k === '\x03') quit(0);
    });
    void tick();
  });
}

/** One screen: a header with totals, then a row per worker, cut to the terminal's size. */
export function render(previous: Sample | null, current: Sample, columns = 80, rows = 24): string {
  const s = current.status;
  const seconds = previous ? (current.at - previous.at) / 1000 : 0;
  const before = new Map(previous?.status.workers.map((w) => [w.pid, w]) ?? []);
  const perWorker = s.workers.map((w) => {
    const b = before.get(w.pid);
    const rps = b && seconds > 0 ? Math.max(0, w.requests - b.requests) / seconds : null;
    // cpuPercent is CPU time over the worker's uptime; the difference of CPU times gives the last interval's.
    const cpu = b && seconds > 0 ? ((w.cpuPercent * w.uptimeSec - b.cpuPercent * b.uptimeSec) / seconds) : null;
    // Latency of the responses finished in the interval: the difference of the two histograms.
    const window = b?.durationCounts && w.durationCounts ? w.durationCounts.map((n, i) => n - b.durationCounts![i]) : null;
    const p50 = window ? bucketQuantile(window, 0.5) : null;
    const p99 = window ? bucketQuantile(window, 0.99) : null;
    return { w, rps, cpu, p50, p99 };
  });
  const totalRps = perWorker.every((p) => p.rps !== null) ? perWorker.reduce((sum, p) => sum + p.rps!, 0) : null;
  const connections = s.workers.reduce((sum, w) => sum + w.connections, 0);
  const header = [
    `herd ${s.pid}  ${s.listen}  ${s.app ?? 'built-in hello app'}  up ${duration(s.uptimeSec)}${s.reloading ? '  RELOADING' : ''}`,
    `dispatch ${s.dispatch}${s.dispatch === 'handoff' ? ` (${s.handoff})` : ''}  engine ${s.engine}  workers ${s.workers.length}/${s.workersWanted}  ` +
      `connections ${connections}  requests ${s.requests}  ${totalRps === null ? '-' : totalRps.toFixed(0)} req/s` +
      (s.logd ? `  logd ${s.logd.pid}` : ''),
    '',
  ];
  const names = ['worker', 'pid', 'state', 'conns', 'req/s', 'share', 'p50', 'p99', 'requests', 'rss', 'cpu%', 'restarts', 'uptime'];
  const ms = (seconds: number | null) => (seconds === null ? '-' : `${(seconds * 1000).toFixed(1)}ms`);
  const table = perWorker.map(({ w, rps, cpu, p50, p99 }) => [
    String(w.id), String(w.pid), w.state, String(w.connections), rps === null ? '-' : rps.toFixed(0),
    totalRps && rps !== null ? `${((rps / totalRps) * 100).toFixed(1)}%` : '-', ms(p50), ms(p99), String(w.requests),
    `${(w.rssBytes / 1048576).toFixed(1)}M`, cpu === null ? '-' : cpu.toFixed(1), String(w.restarts), duration(w.uptimeSec),
  ]);
  const widths = names.map((n, i) => Math.max(n.length, ...table.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  const footer = ['', s.metricsUrl ? `q quits; metrics at ${s.metricsUrl}` : 'q quits; latency needs herd serve --metrics'];
  const body = [...header, line(names), ...table.map(line)].slice(0, Math.max(1, rows - footer.length));
  return [...body, ...footer].map((l) => l.slice(0, columns)).join('\r\n');
}
