#!/usr/bin/env node
// The `herd` command: one file per subcommand in this folder, each exporting run(argv).
import { HerdError } from '../errors.ts';

const COMMANDS: Record<string, { summary: string; load: () => Promise<{ run(argv: string[]): Promise<number> }> }> = {
  serve: { summary: 'run the pre-fork HTTP server', load: () => import('./serve.ts') },
  status: { summary: 'show the workers of a running herd', load: () => import('./status.ts') },
  reload: { summary: 'rolling reload of a running herd (same as SIGHUP)', load: () => import('./reload.ts') },
  stop: { summary: 'graceful stop of a running herd (same as SIGTERM)', load: () => import('./stop.ts') },
  reopen: { summary: 'make a running herd reopen its log files (same as SIGUSR1)', load: () => import('./reopen.ts') },
  bench: { summary: 'load generator: webbench\'s flags, wrk\'s measurements', load: () => import('./bench.ts') },
  lab: { summary: 'run the serial vs multi-process experiment matrix, with kernel probes', load: () => import('./lab.ts') },
  logd: { summary: 'log daemon speaking squid\'s logfile-daemon protocol on stdin', load: () => import('./logd.ts') },
};

const USAGE = `usage: herd <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(8)} ${c.summary}`)
  .join('\n')}

herd <command> --help shows the options of a command.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
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
