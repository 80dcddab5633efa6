// Entry of the logd process, forked by the supervisor (LogDaemon in supervisor_side.ts) with its
// DaemonConfig as JSON in argv[2] and an IPC channel. Also runnable by hand for a test.
import { LogDaemonProcess, type DaemonConfig } from './daemon.ts';
import type { DaemonMessage, SupervisorToDaemon } from './daemon_messages.ts';

function send(message: DaemonMessage): void {
  if (process.send) process.send(message);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '') as DaemonConfig;
  let daemon: LogDaemonProcess;
  try {
    daemon = await LogDaemonProcess.start(config);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if (process.send) send({ t: 'fatal', message });
    else process.stderr.write(`herd logd: ${message}\n`); // run by hand: nobody else will say it
    process.exit(1);
  }

  const stop = async (): Promise<void> => {
    await daemon.stop();
    process.exit(0);
  };
  process.on('SIGUSR1', () => daemon.reopen());
  process.on('SIGTERM', () => void stop());
  // Ctrl-C reaches the whole process group; the supervisor decides when logd stops, so that its
  // last events still reach the error log.
  process.on('SIGINT', () => {});
  process.on('SIGHUP', () => {});
  // The supervisor is gone: write what was read and leave, rather than live on as an orphan.
  process.on('disconnect', () => void stop());
  process.on('message', (message: SupervisorToDaemon) => {
    switch (message.t) {
      case 'reopen':
        daemon.reopen();
        return;
      case 'error-line':
        daemon.errorLine(message.line);
        return;
      case 'stop':
        void stop();
        return;
    }
  });
  send({ t: 'ready', start: daemon.start() });
}

void main();
