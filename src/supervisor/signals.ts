// Every signal the supervisor handles has exactly one meaning.
export const SIGNAL_MEANINGS = {
  SIGTERM: 'stop', // graceful: stop accepting, finish in-flight requests, exit
  SIGINT: 'stop',
  SIGQUIT: 'stop',
  SIGHUP: 'reload', // rolling: one worker at a time, the new one ready before the old one drains
  SIGUSR1: 'reopen-logs', // after logrotate renamed the files
  SIGUSR2: 'upgrade', // start the herd now installed on the same sockets; this one drains once it is ready
} as const;

export type SupervisorSignal = keyof typeof SIGNAL_MEANINGS;
export type SignalMeaning = (typeof SIGNAL_MEANINGS)[SupervisorSignal];

/** Routes each handled signal into `deliver`; returns a function that removes the handlers. */
export function listenForSignals(deliver: (signal: SupervisorSignal) => void): () => void {
  const installed: Array<[SupervisorSignal, () => void]> = [];
  for (const signal of Object.keys(SIGNAL_MEANINGS) as SupervisorSignal[]) {
    const handler = () => deliver(signal);
    process.on(signal, handler);
    installed.push([signal, handler]);
  }
  return () => {
    for (const [signal, handler] of installed) process.off(signal, handler);
  };
}
