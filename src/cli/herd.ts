#!/usr/bin/env node
// The `herd` command: one file per subcommand in this folder, each exporting run(argv).
// Every subcommand is loaded on demand, after the Node version check, so that an older Node gets
// one line saying so instead of a stack from the first API it lacks.
import { HerdError } from '../errors.ts';

/** reusePort in net.Server.listen() and process.getBuiltinModule arrived in 22.12. */
const MIN_NODE = [22, 12] as const;

function nodeTooOld(version: string): boolean {
  const [major, minor] = version.slice(1).split('.').map(Number);
  return major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1]);
}

/** package.json sits two levels up from this file both in the checkout (src/cli) and installed (dist/cli). */
async function ownVersion(): Promise<string> {
  const fs = await import('node:fs');
  return (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  serve: { summary: 'run the pre-fork HTTP server', load: () => import('./serve.ts') },
  config: { summary: 'print the configuration herd serve would use and where each value came from', load: () => import('./config.ts') },
  status: { summary: 'show the workers of a running herd', load: () => import('./status.ts') },
  top: { summary: 'live view of a running herd\'s workers, refreshed every second', load: () => import('./top.ts') },
  ls: { summary: 'list the herds running for this user', load: () => import('./ls.ts') },
  logs: { summary: 'print (and follow) the access and error logs of a running herd', load: () => import('./logs.ts') },
  reload: { summary: 'rolling reload of a running herd (same as SIGHUP)', load: () => import('./reload.ts') },
  stop: { summary: 'graceful stop of a running herd (same as SIGTERM)', load: () => import('./stop.ts') },
  upgrade: { summary: 'replace a running herd by the one now installed, on the same sockets (same as SIGUSR2)', load: () => import('./upgrade.ts') },
  reopen: { summary: 'make a running herd reopen its log files (same as SIGUSR1)', load: () => import('./reopen.ts') },
  bench: { summary: 'load generator: webbench\'s flags, wrk\'s measurements', load: () => import('./bench.ts') },
  lab: { summary: 'run the serial vs multi-process experiment matrix, with kernel probes', load: () => import('./lab.ts') },
  'systemd-unit': { summary: 'print the systemd .service and .socket units for a herd serve', load: () => import('./systemd_unit.ts') },
  logd: { summary: 'log daemon speaking squid\'s logfile-daemon protocol on stdin', load: () => import('./logd.ts') },
};

const USAGE = `usage: herd <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(12)} ${c.summary}`)
  .join('\n')}

herd <command> --help shows the options of a command; herd --version prints the version.`;

async function main(argv: string[]): Promise<number> {
  if (nodeTooOld(process.version)) {
    console.error(`herd: needs Node.js ${MIN_NODE.join('.')} or newer; ${process.execPath} is ${process.version}`);
    return 1;
  }
  const [name, ...rest] = argv;
  if (name === '-V' || name === '--version' || name === 'version') {
    console.log(await ownVersion());
    return 0;
  }
  if (name === undefined || name === '-h' || name === '--help' || name === 'help') {
    console.log(USAGE);
    return name === undefined ? 2 : 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`herd: unknown command '${name}'; commands: ${Object.keys(COMMANDS).join(', ')}`);
    return 2;
  }
  try {
    return await (await command.load()).run(rest);
  } catch (err) {
    if (err instanceof HerdError) {
      console.error(`herd: ${err.message}`);
      return err.exitCode;
    }
    throw err;
  }
}

process.exitCode = await main(process.argv.slice(2));
