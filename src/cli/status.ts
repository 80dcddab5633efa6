// herd status [--json]: the workers of a running herd.
import { HerdError } from '../errors.ts';
import { sendControl } from '../supervisor/control_client.ts';
import type { Status } from '../supervisor/control_protocol.ts';
import { parseCommandLine } from './arguments.ts';
import { CONTROL_OPTIONS, controlHelp, controlPathFrom } from './control_target.ts';

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine('status', argv, { ...CONTROL_OPTIONS, json: { type: 'boolean' } }, false);
  if (values.help) {
    console.log(controlHelp('status [--json]', 'Per worker: pid, uptime, open connections, requests, share, restarts, RSS, CPU%.'));
    return 0;
  }
  const reply = await sendControl(await controlPathFrom(values), 'status');
  if (!reply.ok) throw new HerdError(reply.error);
  if (!('status' in reply)) throw new HerdError('herd answered status without a status');
  console.log(values.json ? JSON.stringify(reply.status, null, 2) : formatStatus(reply.status));
  return 0;
}

export function formatStatus(s: Status): string {
  const head = `herd ${s.pid} serving ${s.listen}  dispatch ${s.dispatch}${s.dispatch === 'handoff' ? ` (${s.handoff})` : ''}  engine ${s.engine}  up ${duration(s.uptimeSec)}  ${s.requests} requests${s.reloading ? '  (reloading)' : ''}`;
  const columns = ['worker', 'pid', 'state', 'uptime', 'conns', 'requests', 'share', 'restarts', 'rss', 'cpu%'];
  const rows = s.workers.map((w) => [
    String(w.id), String(w.pid), w.state, duration(w.uptimeSec), String(w.connections), String(w.requests),
    `${(w.share * 100).toFixed(1)}%`, String(w.restarts), `${(w.rssBytes / 1048576).toFixed(1)}M`, w.cpuPercent.toFixed(1),
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padStart(widths[i])).join('  ');
  const abandoned = s.lastReload?.outcome === 'abandoned' ? [`last reload abandoned: ${s.lastReload.reason ?? 'a new worker did not start'}; the old workers serve on`] : [];
  return [head, ...abandoned, line(columns), ...rows.map(line)].join('\n');
}

export function duration(sec: number): string {
  if (sec < 60) return `${sec.toFixed(0)}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(Math.floor(sec % 60)).padStart(2, '0')}s`;
  return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
}
