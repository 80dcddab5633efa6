// The .service and .socket units for a herd serve command line. Type=notify (herd says READY=1
// through systemd-notify, hence NotifyAccess=all), KillMode=mixed (TERM to the supervisor only: it
// drains the workers itself; whatever is left at the timeout gets SIGKILL), TimeoutStopSec from
// --shutdown-delay + --grace with a margin, and the socket unit holding the port across restarts.
import type { ServeConfig } from '../config.ts';

export interface UnitFiles {
  service: string;
  socket: string | null;
}

export interface UnitOptions {
  name: string;
  /** node, then herd's CLI script: ExecStart must exec node directly (LISTEN_PID is checked). */
  command: string[];
  /** The serve arguments, as given (APP made absolute). */
  serveArgs: string[];
  workingDirectory: string;
  withSocket: boolean;
}

/** Seconds systemd waits after TERM before SIGKILL: the delay, the workers' grace, and a margin for logd. */
export function stopTimeoutSeconds(config: ServeConfig): number {
  return Math.ceil(config.shutdownDelayMs / 1000 + config.graceSeconds + 5);
}

export function unitFiles(config: ServeConfig, options: UnitOptions): UnitFiles {
  const exec = [...options.command, 'serve', ...options.serveArgs].map(quoteForSystemd).join(' ');
  const listen = `${config.host.includes(':') ? `[${config.host}]` : config.host}:${config.port}`;
  const what = config.app === null ? 'the built-in app' : config.app;
  const service = [
    `# ${options.name}.service: herd serving ${what}`,
    '[Unit]',
    `Description=herd: ${what} on ${listen}`,
    'After=network.target',
    ...(options.withSocket ? [`Requires=${options.name}.socket`, `After=${options.name}.socket`] : []),
    '',
    '[Service]',
    'Type=notify',
    '# READY=1 / RELOADING=1 / STOPPING=1 are sent by systemd-notify, a child of herd',
    'NotifyAccess=all',
    `WorkingDirectory=${options.workingDirectory}`,
    `ExecStart=${exec}`,
    'ExecReload=/bin/kill -HUP $MAINPID',
    '# TERM to the supervisor only; it drains the workers (a stray process left at the timeout gets SIGKILL)',
    'KillMode=mixed',
    'KillSignal=SIGTERM',
    `# --shutdown-delay ${config.shutdownDelayMs / 1000} s + --grace ${config.graceSeconds} s + 5 s for the log daemon`,
    `TimeoutStopSec=${stopTimeoutSeconds(config)}`,
    'Restart=on-failure',
    '# Run as a user of its own (it must be able to read WorkingDirectory and the APP)',
    '#User=herd',
    'NoNewPrivileges=yes',
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
  if (!options.withSocket) return { service, socket: null };
  const socket = [
    `# ${options.name}.socket: systemd holds the port; herd serves it (dispatch ${config.dispatch}) and restarts lose no connection`,
    '[Unit]',
    `Description=herd socket for ${options.name}.service`,
    '',
    '[Socket]',
    `ListenStream=${listen}`,
    `Backlog=${config.backlog}`,
    '# one socket, shared by the workers or accepted by the supervisor: not SO_REUSEPORT',
    'ReusePort=no',
    '',
    '[Install]',
    'WantedBy=sockets.target',
    '',
  ].join('\n');
  return { service, socket };
}

/** systemd's command-line quoting: double quotes with backslash escapes; % and $ doubled. */
export function quoteForSystemd(word: string): string {
  const escaped = word.replaceAll('%', '%%').replaceAll('$', '$$');
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(escaped)) return escaped;
  return `"${escaped.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}
