// The APP's own SIGTERM/SIGINT handlers, held back until herd has drained the worker.
//
// A signal to the worker (the supervisor's drain, Ctrl-C reaching the whole process group, a
// container runtime) starts herd's drain. An app's `process.on('SIGTERM', ...)` that closes its
// database pool or calls process.exit() must run only once the in-flight requests are done, so the
// listeners an APP registers for these signals are kept here, and herd calls them at that point.
import { EventEmitter } from 'node:events';

const HELD_SIGNALS = new Set<string | symbol>(['SIGTERM', 'SIGINT']);
const METHODS = ['on', 'addListener', 'once', 'prependListener', 'prependOnceListener', 'off', 'removeListener'] as const;

const held = new EventEmitter();

type Listener = (...args: unknown[]) => unknown;

/**
 * From now on, listeners registered on `process` for SIGTERM/SIGINT are the app's and are held.
 * herd's own signal handlers must be installed before this is called.
 */
export function holdAppSignalListeners(): void {
  const target = process as unknown as Record<string, (event: string | symbol, listener: Listener) => unknown>;
  for (const method of METHODS) {
    const original = target[method];
    target[method] = function (this: unknown, event: string | symbol, listener: Listener) {
      if (!HELD_SIGNALS.has(event)) return original.call(process, event, listener);
      (held[method] as (e: string | symbol, l: Listener) => unknown).call(held, event, listener);
      return process;
    };
  }
  const removeAll = process.removeAllListeners.bind(process);
  process.removeAllListeners = function (event?: string | symbol) {
    if (event === undefined || HELD_SIGNALS.has(event)) held.removeAllListeners(event);
    return event !== undefined && HELD_SIGNALS.has(event) ? process : removeAll(event);
  } as typeof process.removeAllListeners;
}

/** Whether the app registered a handler for a signal herd stops on. */
export function appHandlesStopSignal(): boolean {
  return held.listenerCount('SIGTERM') + held.listenerCount('SIGINT') > 0;
}

/**
 * Runs the app's stop handlers once: SIGTERM's, or SIGINT's when it has only those (the signal a
 * Node app expects from a process manager). Resolves when every promise they returned settles.
 */
export async function emitStopSignalToApp(): Promise<void> {
  const signal = held.listenerCount('SIGTERM') > 0 ? 'SIGTERM' : 'SIGINT';
  const listeners = held.listeners(signal) as Listener[];
  held.removeAllListeners(signal);
  const pending: Promise<unknown>[] = [];
  for (const listener of listeners) {
    try {
      const result = listener.call(process, signal);
      if (result && typeof (result as PromiseLike<unknown>).then === 'function') pending.push(Promise.resolve(result));
    } catch (err) {
      console.error(`the app's ${signal} handler threw: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  await Promise.allSettled(pending);
}
