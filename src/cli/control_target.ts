// Which running herd a control command talks to: --control PATH; --port N (its default control
// socket); or, with neither, the only herd this user runs (found in the private runtime directory).
import path from 'node:path';
import { defaultControlPath, parsePort } from '../config.ts';
import { HerdError } from '../errors.ts';
import { runtimeDirPath } from '../supervisor/runtime_dir.ts';
import { runningHerds } from './running_herds.ts';

export const CONTROL_OPTIONS = {
  control: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function controlPathFrom(values: { control?: string; port?: string }): Promise<string> {
  if (values.control !== undefined) return path.resolve(values.control);
  if (values.port !== undefined) return defaultControlPath(parsePort(values.port));
  const herds = await runningHerds();
  if (herds.length === 1) return herds[0].control;
  if (herds.length === 0) {
    throw new HerdError(`no herd is running for this user (none answers in ${runtimeDirPath()}); pass --control PATH for one started with --control`, 'ENOHERD');
  }
  const which = herds.map((h) => `${h.status.listen} (pid ${h.status.pid}, --control ${h.control})`).join(', ');
  throw new HerdError(`${herds.length} herds are running: ${which}; say which with --port N or --control PATH`, 'EMANYHERDS');
}

export function controlHelp(command: string, what: string): string {
  return `usage: herd ${command} [--control PATH | --port N]

${what}
  --control PATH   the control socket of the herd (as given to herd serve --control)
  --port N         the herd serving on port N, when it uses the default control socket
With neither, the only herd running for this user (herd ls lists them).`;
}
