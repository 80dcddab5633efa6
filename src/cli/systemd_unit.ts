// herd systemd-unit [--name NAME] [--no-socket] [serve options and APP]: prints the .service unit
// (and the .socket unit) that runs this herd serve under systemd. Nothing is installed.
import fs from 'node:fs';
import path from 'node:path';
import { UsageError } from '../errors.ts';
import { unitFiles } from '../systemd/unit_files.ts';
import { parseServeArgs } from './serve.ts';

const HELP = `usage: herd systemd-unit [--name NAME] [--no-socket] [serve options and APP]

Prints NAME.service (Type=notify, NotifyAccess=all, KillMode=mixed, TimeoutStopSec from
--shutdown-delay and --grace) and NAME.socket (ListenStream= the --host:--port) for the herd serve
these options describe. Save them in /etc/systemd/system/, then: systemctl enable --now NAME.socket
  --name NAME    unit name (default herd)
  --no-socket    no .socket unit: herd binds the port itself (needed for --dispatch reuseport)`;

export async function run(argv: string[]): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    console.log(HELP);
    return 0;
  }
  let name = 'herd';
  let withSocket = true;
  const serveArgs: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--name') {
      name = argv[++i] ?? '';
      if (!/^[A-Za-z0-9:_.\\-]+$/.test(name)) throw new UsageError(`--name must be a unit name (letters, digits, :_.-), not '${name}'`);
    } else if (argv[i] === '--no-socket') withSocket = false;
    else serveArgs.push(argv[i]);
  }
  const config = parseServeArgs(serveArgs);
  if (config === 'help') return 0;
  if (withSocket && config.dispatch === 'reuseport' && serveArgs.some((a) => a === '--dispatch' || a.startsWith('--dispatch='))) {
    throw new UsageError('--dispatch reuseport cannot serve a socket systemd passes (each worker binds its own): use --dispatch shared or handoff, or --no-socket');
  }
  // Under socket activation the default dispatch is shared; say it, so the unit reads the same without the .socket.
  const args = absoluteApp(serveArgs, config.app);
  if (withSocket && !args.some((a) => a === '--dispatch' || a.startsWith('--dispatch='))) args.push('--dispatch', 'shared');
  const effective = withSocket && config.dispatch === 'reuseport' ? { ...config, dispatch: 'shared' as const } : config;
  const units = unitFiles(effective, {
    name,
    command: [process.execPath, fs.realpathSync(process.argv[1])],
    serveArgs: args,
    workingDirectory: process.cwd(),
    withSocket,
  });
  console.log(units.service);
  if (units.socket) console.log(units.socket);
  return 0;
}

/** The unit runs from its WorkingDirectory, but an absolute APP reads the same anywhere. */
function absoluteApp(args: string[], app: string | null): string[] {
  if (app === null) return [...args];
  return args.map((a) => (!a.startsWith('-') && path.resolve(a) === app ? app : a));
}
