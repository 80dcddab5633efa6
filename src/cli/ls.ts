// herd ls [--json]: every herd this user runs (found in the private runtime directory), one line each.
import { parseCommandLine } from './arguments.ts';
import { runningHerds } from './running_herds.ts';
import { duration } from './status.ts';
import { runtimeDirPath } from '../supervisor/runtime_dir.ts';

const HELP = `usage: herd ls [--json]

Every herd running for this user: pid, address, app, workers ready of wanted, uptime, control socket.
They are found by their control sockets in ${runtimeDirPath()} (herds started with --control elsewhere are not).`;

export async function run(argv: string[]): Promise<number> {
  const { values } = parseCommandLine('ls', argv, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } }, false);
  if (values.help) {
    console.log(HELP);
    return 0;
  }
  const herds = await runningHerds();
  if (values.json) {
    console.log(JSON.stringify(herds, null, 2));
    return 0;
  }
  if (herds.length === 0) {
    console.log(`no herd is running for this user (none answers in ${runtimeDirPath()})`);
    return 0;
  }
  const columns = ['pid', 'listen', 'app', 'workers', 'uptime', 'control'];
  const rows = herds.map(({ control, status: s }) => [
    String(s.pid), s.listen, s.app ?? 'built-in hello app',
    `${s.workers.filter((w) => w.state === 'ready').length}/${s.workersWanted}`, duration(s.uptimeSec), control,
  ]);
  const widths = columns.map((c, i) => Math.max(c.length, ...rows.map((r) => r[i].length)));
  for (const cells of [columns, ...rows]) console.log(cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  return 0;
}
