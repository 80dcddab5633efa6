// Errors a user reads. Every message is one line that says what is wrong and, where it helps, what to do.

/** A failure herd explains to the user and exits on (exit code 1 unless said otherwise). */
export class HerdError extends Error {
  readonly code: string;
  readonly exitCode: number;
  constructor(message: string, code = 'HERD_ERROR', exitCode = 1) {
    super(message);
    this.name = 'HerdError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

/** Bad command line: unknown flag, bad value, missing argument. Exit code 2, as getopt tools do. */
export class UsageError extends HerdError {
  constructor(message: string) {
    super(message, 'HERD_USAGE', 2);
    this.name = 'UsageError';
  }
}

/** Turns a listen/bind failure into the line a user needs. */
export function describeListenError(err: NodeJS.ErrnoException, host: string, port: number): HerdError {
  const where = `${host}:${port}`;
  switch (err.code) {
    case 'EADDRINUSE':
      return new HerdError(`port ${port} is already in use on ${host} (EADDRINUSE); stop the other server or pick another --port`, 'EADDRINUSE');
    case 'EACCES':
      return new HerdError(`permission denied to listen on ${where} (EACCES); ports below 1024 need root or CAP_NET_BIND_SERVICE`, 'EACCES');
    case 'EADDRNOTAVAIL':
      return new HerdError(`cannot listen on ${where}: ${host} is not an address of this machine (EADDRNOTAVAIL)`, 'EADDRNOTAVAIL');
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new HerdError(`cannot listen on ${where}: host ${host} does not resolve`, 'ENOTFOUND');
    default:
      return new HerdError(`cannot listen on ${where}: ${err.message}`, err.code ?? 'ELISTEN');
  }
}
