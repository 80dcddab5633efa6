// Every message on the supervisor↔logd IPC channel, defined once.
import type { EpochStart } from './receipts.ts';

export type SupervisorToDaemon =
  | { t: 'reopen' }
  /** One line for the error log (supervisor events). */
  | { t: 'error-line'; line: string }
  /** Write everything read so far, close the files, exit 0. */
  | { t: 'stop' };

export type DaemonMessage =
  /** Listening; how the access log was found (the supervisor keeps it for the next daemons). */
  | { t: 'ready'; start: EpochStart }
  /** Cannot start (a log file cannot be opened...): a one-line message for the user. */
  | { t: 'fatal'; message: string };
