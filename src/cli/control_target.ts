// Which running herd a control command talks to: --control PATH, or the default path for --port.
import path from 'node:path';
import { DEFAULTS, defaultControlPath, parsePort } from '../config.ts';

export const CONTROL_OPTIONS = {
  control: { type: 'string' },
  port: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function controlPathFrom(values: { control?: string; port?: string }): string {
  if (values.control !== undefined) return path.resolve(values.control);
  return defaultControlPath(values.port === undefined ? DEFAULTS.port : parsePort(values.port));
}

export function controlHelp(command: string, what: string): string {
  return `usage: herd ${command} [--control PATH | --port N]

${what}
  --control PATH   the control socket of the herd (as given to herd serve --control)
  --port N         the herd serving on port N (default ${DEFAULTS.port}), when it uses the default control socket`;
}
